#pragma once
// Database: the one RocksDB instance of a data dir (<data>/index) with every column family the
// server uses. Owns the rocksdb::DB and its family handles; shared (std::shared_ptr) by the
// stream store, the fragment store, recovery and the retention sweeper. See docs/storage.md for
// each family's key/value layout.
//
// Threading: rocksdb::DB is safe for concurrent use; the handles are immutable after open.

#include <array>
#include <cstddef>
#include <memory>
#include <string>

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
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

class Database {
 public:
  // Opens (creating if needed) the database in `path`, creating missing families (a data dir of
  // an older version that has only some of them opens fine). Throws std::runtime_error on failure.
  static std::shared_ptr<Database> open(const std::string& path);

  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  [[nodiscard]] rocksdb::DB& db() const noexcept { return *db_; }
  [[nodiscard]] rocksdb::ColumnFamilyHandle* family(Family f) const noexcept {
    return families_[static_cast<std::size_t>(f)];
  }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }

 private:
  Database() = default;
  std::string path_;
  rocksdb::DB* db_ = nullptr;
  rocksdb::ColumnFamilyHandle* default_family_ = nullptr;
  std::array<rocksdb::ColumnFamilyHandle*, static_cast<std::size_t>(Family::count_)> families_{};
};

// Names of the u64 counters kept in the meta family.
inline constexpr const char* kMetaNextStreamId = "next_stream_id";
inline constexpr const char* kMetaFragmentNumberHighWater = "fragment_number_high_water";
inline constexpr const char* kMetaNextSegmentId = "next_segment_id";

}  // namespace kvsd::storage
