#pragma once
// Database: the one RocksDB instance of a data dir (<data>/index) with every column family the
// server uses. Owns the rocksdb::DB and its family handles; shared (std::shared_ptr) by the
// stream store, the fragment store, recovery and the retention sweeper. See docs/storage.md for
// each family's key/value layout.
//
// Degraded mode (docs/storage.md, "Disk full"): the index opens read-only, and every write is
// refused, when its disk has less free space than the reserve (options.reserve_bytes) plus what
// a read-write open writes (index_open_bytes), or when a read-write open fails with an I/O
// error. While running, an index write that would find less than the reserve free, or that
// fails for lack of space, refuses writes from then on. Reads keep working. restore_read_write()
// and allow_writes() (StorageHealth) end it. The reserve exists because RocksDB (7.8) aborts the
// process, rather than failing, when a synced write or an open runs out of space.
//
// Threading: every member may be called from any thread. db() and family() may be called, and
// what they return used, only while a Pin of this Database lives on the calling thread: reopening
// read-write replaces both, and it waits until no Pin is held. Pins nest and never wait for each
// other (the reopen only ever try-locks), so a pinned thread may take further pins.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "kvs/stream_store.hpp"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class Status;
}  // namespace rocksdb

namespace kvsd::storage {

enum class Family : std::size_t {
  streams,                   // stream name -> proto StreamRecord (visible streams)
  deleted_streams,           // stream_id BE -> proto StreamRecord (DELETING, data not yet purged)
  fragments,                 // stream_id BE + fragment number BE -> proto FragmentRecord
  fragments_by_producer_ts,  // stream_id BE + flipped ts BE + fragment number BE -> ""
  fragments_by_server_ts,    // same layout, server timestamp
  headers,                   // stream_id BE + header_id BE -> proto HeaderRecord
  segments,                  // stream_id BE + segment_id BE -> proto SegmentRecord
  meta,                      // name -> value (counters, u64 BE)
  count_,
};

// The family's name inside RocksDB.
const char* family_name(Family f) noexcept;

// Why writes are refused. The name is the `reason` label of kvsd_storage_degraded.
enum class DegradedReason {
  disk_full,  // less free space than the reserve, or an index write ran out of space
  io_error,   // a read-write open failed with an I/O error
};
const char* degraded_reason_name(DegradedReason r) noexcept;

struct WriteRefusal {
  DegradedReason reason = DegradedReason::disk_full;
  std::uint64_t free_bytes = 0;    // free when it was decided
  std::uint64_t needed_bytes = 0;  // what writes needed then
  std::string detail;              // e.g. RocksDB's status of a failed open; for the log only (may name paths)
};

// Free space kept for the index by default: writes stop below it (see DatabaseOptions).
inline constexpr std::uint64_t kDefaultIndexReserveBytes = 16ULL << 20;

struct DatabaseOptions {
  // Free bytes the index's file system keeps. An index write that would find fewer refuses (and
  // switches to degraded mode); the open (and a reopen) goes read-write only with this many plus
  // index_open_bytes() free.
  std::uint64_t reserve_bytes = kDefaultIndexReserveBytes;
  // Free bytes of the file system holding a path; default storage::free_bytes (statvfs). Tests
  // replace it.
  std::function<kvs::Result<std::uint64_t>(const std::filesystem::path&)> free_bytes;
};

class Database {
 public:
  // Keeps the database's current RocksDB instance (db(), family()) in place while it lives.
  class Pin {
   public:
    explicit Pin(const Database& db);
    ~Pin();
    Pin(const Pin&) = delete;
    Pin& operator=(const Pin&) = delete;

   private:
    std::shared_lock<std::shared_mutex> lock_;
  };

  // Opens (creating if needed) the database in `path`, creating missing families (a data dir of
  // an older version that has only some of them opens fine). Opens it read-only, in degraded
  // mode, as described above; a read-only open of an older data dir maps its missing families
  // to an empty one. Throws std::runtime_error when it cannot open it at all (e.g. no index yet
  // and too little space to create one).
  static std::shared_ptr<Database> open(const std::string& path, DatabaseOptions options = {});

  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  [[nodiscard]] Pin pin() const { return Pin(*this); }
  // Both only under a Pin (checked in debug builds).
  [[nodiscard]] rocksdb::DB& db() const noexcept;
  [[nodiscard]] rocksdb::ColumnFamilyHandle* family(Family f) const noexcept;
  [[nodiscard]] const std::string& path() const noexcept { return path_; }

  // The instance is read-only (writes are then refused as well).
  [[nodiscard]] bool read_only() const noexcept { return read_only_.load(); }
  // Writes are refused (degraded mode).
  [[nodiscard]] bool refusing_writes() const noexcept { return refusing_.load(); }
  // Why, while refusing_writes().
  [[nodiscard]] std::optional<WriteRefusal> refusal() const;

  // The gate of every operation that writes (stream store writes, fragment batches, retention):
  // fails while writes are refused, then as guard_write(). Errors: service_unavailable.
  kvs::Status admit_writes() const;
  // The check right before an index write, also while writes are refused (recovery when writes
  // resume): the instance is read-write and at least reserve_bytes are free; too little space
  // refuses writes from now on. Errors: service_unavailable.
  kvs::Status guard_write() const;
  // The error to report for a failed index write, `what` naming it (no paths): running out of
  // space refuses writes from now on and gives the degraded error; anything else is logged and
  // becomes internal.
  kvs::Error write_failed(const std::string& what, const rocksdb::Status& s) const;
  // Switches to refusing writes (idempotent: the first reason stays).
  void refuse_writes(WriteRefusal why) const;

  // Free bytes of the index's file system now. Errors: internal.
  kvs::Result<std::uint64_t> free_bytes() const;
  // Free bytes writes need to resume: the reserve plus index_open_bytes() of the index.
  std::uint64_t resume_bytes() const;

  // Blocking. Makes the instance writable again: a read-only one is replaced by a read-write
  // open (waiting up to a few seconds for every Pin to end); a read-write one whose writes failed
  // is resumed (rocksdb::DB::Resume). Writes stay refused until allow_writes(). On failure the
  // current instance stays. Errors: service_unavailable (pins held throughout), internal.
  kvs::Status restore_read_write();
  // Ends degraded mode (after restore_read_write(), and recovery that was deferred).
  void allow_writes();

 private:
  struct Instance {
    rocksdb::DB* db = nullptr;
    std::vector<rocksdb::ColumnFamilyHandle*> handles;  // owned: destroyed before db
    std::array<rocksdb::ColumnFamilyHandle*, static_cast<std::size_t>(Family::count_)> families{};
  };
  static rocksdb::Status open_instance(const std::string& path, bool read_only, Instance& out);
  static void close_instance(Instance& instance) noexcept;

  Database() = default;
  std::string path_;
  DatabaseOptions options_;
  mutable std::shared_mutex instance_mutex_;  // shared: Pin; exclusive: replacing instance_
  Instance instance_;
  std::atomic<bool> read_only_{false};
  // Degraded-mode state: changed by const members (a write discovering a full disk).
  mutable std::atomic<bool> refusing_{false};
  mutable std::mutex refusal_mutex_;
  mutable std::optional<WriteRefusal> refusal_;
};

// The error every refused write reports (errc::service_unavailable; no paths).
kvs::Error storage_degraded_error(DegradedReason reason);

// Names of the u64 counters kept in the meta family.
inline constexpr const char* kMetaNextStreamId = "next_stream_id";
inline constexpr const char* kMetaFragmentNumberHighWater = "fragment_number_high_water";
inline constexpr const char* kMetaNextSegmentId = "next_segment_id";

}  // namespace kvsd::storage
