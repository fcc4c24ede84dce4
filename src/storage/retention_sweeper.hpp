#pragma once
// RetentionSweeper: removes data the streams no longer keep (docs/storage.md, "Retention" and
// "Delete"). run_once(now):
//  - deletes every whole segment whose newest fragment (server timestamp) is older than its
//    stream's retention (retention 0 keeps zero_retention_keep_ms, the service buffer), with the
//    index entries of its fragments; the index goes first, then the file;
//  - for every DELETING stream: stops its ingest, removes all its index entries (fragments,
//    timestamp indexes, headers, segments) and its blob directory, then purges the record.
// Segments of stream ids that are neither live nor DELETING are left alone. While the Database
// refuses writes (degraded mode) run_once does nothing and reports nothing deleted.
//
// Threading: blocking (call through exec::offload, e.g. from a timer); run_once calls are
// serialised. Errors: internal (the sweep stops; the next run resumes where it left off).

#include <cstdint>
#include <memory>
#include <mutex>

#include "storage/database.hpp"
#include "storage/record_codec.hpp"
#include "storage/rocksdb_fragment_store.hpp"
#include "storage/rocksdb_stream_store.hpp"

namespace kvsd::storage {

struct RetentionOptions {
  std::int64_t zero_retention_keep_ms = 5LL * 60 * 1000;
};

struct SweepReport {
  std::uint64_t segments_deleted = 0;
  std::uint64_t fragments_deleted = 0;
  std::uint64_t bytes_freed = 0;
  std::uint64_t streams_purged = 0;
};

class RetentionSweeper {
 public:
  // The stores must outlive the sweeper.
  RetentionSweeper(std::shared_ptr<Database> db, RocksDbFragmentStore& fragments, RocksDbStreamStore& streams,
                   RetentionOptions options = {});

  kvs::Result<SweepReport> run_once(std::int64_t now_ms);

 private:
  kvs::Status expire_segment(const SegmentInfo& candidate, std::int64_t keep_ms, std::int64_t now_ms,
                             SweepReport& report);
  kvs::Status purge_stream(std::uint64_t stream_id, SweepReport& report);

  std::shared_ptr<Database> db_;
  RocksDbFragmentStore& fragments_;
  RocksDbStreamStore& streams_;
  RetentionOptions options_;
  std::mutex run_mutex_;
};

}  // namespace kvsd::storage
