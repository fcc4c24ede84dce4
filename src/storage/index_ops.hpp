#pragma once
// Index operations shared by the fragment store, recovery and the retention sweeper: meta
// counters, and removal of a fragment with its timestamp index entries.
//
// Threading: plain functions over a Database (safe from any thread, under a Database::Pin); a
// WriteBatch belongs to the caller.

#include <cstdint>
#include <string>

#include "kvs/fragment_store.hpp"
#include "storage/database.hpp"

namespace rocksdb {
class WriteBatch;
class Status;
}  // namespace rocksdb

namespace kvsd::storage {

// The counter, or `fallback` when absent. Errors: internal.
kvs::Result<std::uint64_t> read_meta_u64(const Database& db, const char* name, std::uint64_t fallback);
void put_meta_u64(rocksdb::WriteBatch& batch, const Database& db, const char* name, std::uint64_t value);

// Adds the deletes of `record`'s fragments entry and both timestamp index entries.
void delete_fragment_entries(rocksdb::WriteBatch& batch, const Database& db, const kvs::FragmentRecord& record);

// Writes `batch` with sync=true, after Database::guard_write(). Errors: service_unavailable
// (degraded mode, or the write ran out of space: see Database::write_failed), internal (with
// `what` and the status in general words; the full status is logged).
kvs::Status write_synced(const Database& db, rocksdb::WriteBatch& batch, const std::string& what);

// A failed index read: internal, "fragment index: <what> failed (<why>)"; the status is logged.
kvs::Error index_error(const std::string& what, const rocksdb::Status& s);

}  // namespace kvsd::storage
