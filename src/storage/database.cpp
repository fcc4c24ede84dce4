#include "storage/database.hpp"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <spdlog/spdlog.h>

#include <cassert>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <utility>

#include "storage/disk_space.hpp"
#include "storage/rocksdb_logger.hpp"
#include "storage/storage_errors.hpp"

namespace kvsd::storage {

namespace {

// Pins held by this thread (any Database): db() and family() check it in debug builds.
thread_local int t_pins = 0;

// How long restore_read_write() tries to find a moment without pins.
constexpr auto kReopenWait = std::chrono::seconds(5);

rocksdb::DBOptions db_options() {
  rocksdb::DBOptions dbo;
  dbo.create_if_missing = true;
  dbo.create_missing_column_families = true;
  // No fallocate: RocksDB would otherwise reserve about write_buffer_size * 1.1 (72 MiB) for
  // each write-ahead log and 4 MiB for the MANIFEST, which a small or nearly full disk cannot
  // spare (and the reserve check counts actual bytes, not reservations).
  dbo.allow_fallocate = false;
  // No LOG file in the index dir: see rocksdb_logger.hpp (a full disk made it abort the process).
  dbo.info_log = make_rocksdb_logger();
  return dbo;
}

// RocksDB could not take the directory's LOCK file: another process (or another Database in
// this one) has the index open. No reason to degrade: the open fails as before.
bool lock_error(const rocksdb::Status& s) { return s.ToString().find("LOCK") != std::string::npos; }

}  // namespace

const char* family_name(Family f) noexcept {
  switch (f) {
    case Family::streams:
      return "streams";
    case Family::deleted_streams:
      return "deleted_streams";
    case Family::fragments:
      return "fragments";
    case Family::fragments_by_producer_ts:
      return "fragments_by_producer_ts";
    case Family::fragments_by_server_ts:
      return "fragments_by_server_ts";
    case Family::headers:
      return "headers";
    case Family::segments:
      return "segments";
    case Family::meta:
      return "meta";
    case Family::count_:
      break;
  }
  return "?";
}

const char* degraded_reason_name(DegradedReason r) noexcept {
  switch (r) {
    case DegradedReason::disk_full:
      return "disk_full";
    case DegradedReason::io_error:
      return "io_error";
  }
  return "?";
}

kvs::Error storage_degraded_error(DegradedReason reason) {
  if (reason == DegradedReason::disk_full)
    return kvs::Error{kvs::errc::service_unavailable,
                      "The server's storage is full: writes are refused until disk space is freed"};
  return kvs::Error{kvs::errc::service_unavailable,
                    "The server's storage is read-only after a storage error: writes are refused"};
}

Database::Pin::Pin(const Database& db) : lock_(db.instance_mutex_) { ++t_pins; }

Database::Pin::~Pin() { --t_pins; }

rocksdb::Status Database::open_instance(const std::string& path, bool read_only, Instance& out) {
  const auto dbo = db_options();
  std::vector<std::string> present;
  if (read_only) {
    const auto listed = rocksdb::DB::ListColumnFamilies(dbo, path, &present);
    if (!listed.ok()) return listed;
  }
  auto exists = [&present](const std::string& name) {
    for (const auto& p : present)
      if (p == name) return true;
    return false;
  };
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions());
  std::vector<std::size_t> slot;  // descriptor index -> family index (after the default)
  for (std::size_t i = 0; i < static_cast<std::size_t>(Family::count_); ++i) {
    const std::string name = family_name(static_cast<Family>(i));
    if (read_only && !exists(name)) continue;  // cannot be created read-only: mapped to the default below
    descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
    slot.push_back(i);
  }
  Instance inst;
  const auto s = read_only ? rocksdb::DB::OpenForReadOnly(dbo, path, descriptors, &inst.handles, &inst.db)
                           : rocksdb::DB::Open(dbo, path, descriptors, &inst.handles, &inst.db);
  if (!s.ok()) return s;
  // The default family is never written: a missing family reads as empty through it.
  for (auto& f : inst.families) f = inst.handles.at(0);
  for (std::size_t d = 0; d < slot.size(); ++d) inst.families[slot[d]] = inst.handles.at(d + 1);
  out = std::move(inst);
  return s;
}

void Database::close_instance(Instance& instance) noexcept {
  if (instance.db == nullptr) return;
  for (auto* h : instance.handles) instance.db->DestroyColumnFamilyHandle(h);
  instance.handles.clear();
  instance.db->Close();
  delete instance.db;
  instance.db = nullptr;
}

std::shared_ptr<Database> Database::open(const std::string& path, DatabaseOptions options) {
  std::shared_ptr<Database> out(new Database());
  out->path_ = path;
  if (!options.free_bytes) options.free_bytes = [](const std::filesystem::path& p) { return storage::free_bytes(p); };
  out->options_ = std::move(options);
  std::error_code ec;
  const bool exists = std::filesystem::exists(std::filesystem::path(path) / "CURRENT", ec);
  const auto needed = out->resume_bytes();
  const auto free = out->free_bytes();  // unknown (error): try read-write

  auto open_read_only = [&](DegradedReason reason, std::string detail) {
    const auto s = open_instance(path, true, out->instance_);
    if (!s.ok()) return s;
    out->read_only_ = true;
    out->refuse_writes(WriteRefusal{reason, free ? free.value() : 0, needed, std::move(detail)});
    return s;
  };

  if (free && free.value() < needed) {
    if (!exists)
      throw std::runtime_error("cannot create the index in " + path + ": " + std::to_string(free.value()) +
                               " bytes free, fewer than the " + std::to_string(needed) + " it needs");
    const auto s = open_read_only(DegradedReason::disk_full, "");
    if (!s.ok()) throw std::runtime_error("cannot open index " + path + " read-only: " + s.ToString());
    return out;
  }
  const auto s = open_instance(path, false, out->instance_);
  if (s.ok()) return out;
  if (exists && s.IsIOError() && !lock_error(s)) {
    const auto reason = s.IsNoSpace() ? DegradedReason::disk_full : DegradedReason::io_error;
    const auto ro = open_read_only(reason, "read-write open failed: " + s.ToString());
    if (ro.ok()) return out;
  }
  throw std::runtime_error("cannot open index " + path + ": " + s.ToString());
}

Database::~Database() { close_instance(instance_); }

rocksdb::DB& Database::db() const noexcept {
  assert(t_pins > 0 && "Database::db() without a Pin");
  return *instance_.db;
}

rocksdb::ColumnFamilyHandle* Database::family(Family f) const noexcept {
  assert(t_pins > 0 && "Database::family() without a Pin");
  return instance_.families[static_cast<std::size_t>(f)];
}

std::optional<WriteRefusal> Database::refusal() const {
  std::lock_guard lock(refusal_mutex_);
  return refusal_;
}

void Database::refuse_writes(WriteRefusal why) const {
  std::lock_guard lock(refusal_mutex_);
  if (refusing_.load()) return;
  refusal_ = std::move(why);
  refusing_ = true;
}

void Database::allow_writes() {
  std::lock_guard lock(refusal_mutex_);
  refusal_.reset();
  refusing_ = false;
}

kvs::Status Database::admit_writes() const {
  if (refusing_.load()) {
    const auto why = refusal();
    return storage_degraded_error(why ? why->reason : DegradedReason::disk_full);
  }
  return guard_write();
}

kvs::Status Database::guard_write() const {
  if (read_only_.load()) {
    const auto why = refusal();
    return storage_degraded_error(why ? why->reason : DegradedReason::io_error);
  }
  const auto free = free_bytes();
  if (free && free.value() < options_.reserve_bytes) {
    if (!refusing_.load())
      spdlog::error("storage: {} bytes free, below the index reserve of {}: every write is refused from now on",
                    free.value(), options_.reserve_bytes);
    refuse_writes(WriteRefusal{DegradedReason::disk_full, free.value(), options_.reserve_bytes, ""});
    return storage_degraded_error(DegradedReason::disk_full);
  }
  return kvs::Unit{};
}

kvs::Error Database::write_failed(const std::string& what, const rocksdb::Status& s) const {
  if (s.IsNoSpace()) {
    spdlog::error("{}: {}; every write is refused from now on", what, s.ToString());
    const auto free = free_bytes();
    refuse_writes(WriteRefusal{DegradedReason::disk_full, free ? free.value() : 0, options_.reserve_bytes,
                               what + ": " + s.ToString()});
    return storage_degraded_error(DegradedReason::disk_full);
  }
  return storage_failure(what, status_summary(s), s.ToString());
}

kvs::Result<std::uint64_t> Database::free_bytes() const { return options_.free_bytes(path_); }

std::uint64_t Database::resume_bytes() const { return options_.reserve_bytes + index_open_bytes(path_); }

kvs::Status Database::restore_read_write() {
  if (!read_only_.load()) {
    const Pin pin(*this);
    const auto s = instance_.db->Resume();
    if (!s.ok()) return storage_failure("index resume", status_summary(s), s.ToString());
    return kvs::Unit{};
  }
  std::unique_lock lock(instance_mutex_, std::defer_lock);
  const auto deadline = std::chrono::steady_clock::now() + kReopenWait;
  while (!lock.try_lock()) {
    if (std::chrono::steady_clock::now() >= deadline)
      return kvs::Error{kvs::errc::service_unavailable, "the index stayed in use; reopening it is retried later"};
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  // A read-only instance holds no lock on the directory: the read-write one opens beside it, and
  // it stays when that fails.
  Instance writable;
  const auto s = open_instance(path_, false, writable);
  if (!s.ok()) return storage_failure("index read-write open", status_summary(s), s.ToString());
  close_instance(instance_);
  instance_ = std::move(writable);
  read_only_ = false;
  return kvs::Unit{};
}

}  // namespace kvsd::storage
