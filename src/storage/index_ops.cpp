#include "storage/index_ops.hpp"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <cerrno>
#include <cstring>

#include "storage/fault_points.hpp"
#include "storage/key_codec.hpp"
#include "storage/storage_errors.hpp"

namespace kvsd::storage {

kvs::Error index_error(const std::string& what, const rocksdb::Status& s) {
  return storage_failure("fragment index: " + what, status_summary(s), s.ToString());
}

kvs::Result<std::uint64_t> read_meta_u64(const Database& db, const char* name, std::uint64_t fallback) {
  std::string value;
  const auto s = db.db().Get(rocksdb::ReadOptions(), db.family(Family::meta), name, &value);
  if (s.IsNotFound()) return fallback;
  if (!s.ok()) return index_error(std::string("read ") + name, s);
  if (value.size() != kIdBytes) return kvs::Error{kvs::errc::internal, std::string("corrupt meta value ") + name};
  return get_u64_be(value, 0);
}

void put_meta_u64(rocksdb::WriteBatch& batch, const Database& db, const char* name, std::uint64_t value) {
  std::string v;
  put_u64_be(v, value);
  batch.Put(db.family(Family::meta), name, v);
}

void delete_fragment_entries(rocksdb::WriteBatch& batch, const Database& db, const kvs::FragmentRecord& r) {
  const auto number = parse_fragment_number(r.fragment_number).value_or(0);
  batch.Delete(db.family(Family::fragments), id_key(r.stream_id, number));
  batch.Delete(db.family(Family::fragments_by_producer_ts),
               timestamp_key(r.stream_id, r.producer_timestamp_ms, number));
  batch.Delete(db.family(Family::fragments_by_server_ts), timestamp_key(r.stream_id, r.server_timestamp_ms, number));
}

kvs::Status write_synced(const Database& db, rocksdb::WriteBatch& batch, const std::string& what) {
  auto ok = db.guard_write();
  if (!ok) return ok;
  if (const Fault fault = injected(FaultPoint::index_write); fault.kind == Fault::error) {
    const auto s = fault.errno_value == ENOSPC ? rocksdb::Status::NoSpace("injected")
                                               : rocksdb::Status::IOError("injected", std::strerror(fault.errno_value));
    return db.write_failed("fragment index: " + what, s);
  }
  rocksdb::WriteOptions wo;
  wo.sync = true;
  const auto s = db.db().Write(wo, &batch);
  if (!s.ok()) return db.write_failed("fragment index: " + what, s);
  return kvs::Unit{};
}

}  // namespace kvsd::storage
