#pragma once
// RocksDbFragmentStore: the kvs::FragmentStore on append-only blob segment files plus the shared
// RocksDB index (docs/storage.md). Cluster bytes go to <blobs>/<stream hex16>/<segment hex16>.seg;
// records, timestamp indexes, headers and segment records go to the Database's families.
//
// Durability: a fragment is reported persisted only after its segment bytes are fdatasync'ed AND
// the index batch that references them is written with sync. Two threads form a pipeline: the
// group committer takes every queued fragment of every stream and appends it to its segment;
// the sync stage takes every appended batch and makes them durable together (one round of
// fdatasyncs, one index write), then runs the callbacks. A segment whose append or sync fails
// is closed for appends and its unsynced fragments fail; no index entry ever points at bytes
// that are not durable (recovery drops an unindexed tail).
//
// Degraded mode (Database): every fragment and staged part fails (service_unavailable) before
// anything is appended while the Database refuses writes; reads keep working.
//
// Threading: see kvs::FragmentStore. The constructor runs recovery (blocking) and starts the
// committer; the destructor commits what is queued, then stops it. retire_segment() and
// drop_stream() are for the retention sweeper (blocking; they wait for an in-flight batch).

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "kvs/fragment_store.hpp"
#include "storage/batch_worker.hpp"
#include "storage/database.hpp"
#include "storage/fragment_numbers.hpp"
#include "storage/record_codec.hpp"
#include "storage/recovery.hpp"
#include "storage/segment_file.hpp"

namespace rocksdb {
class WriteBatch;
}

namespace kvsd::storage {

// What one round of the sync stage did, for metrics (FragmentStoreOptions::on_sync_round). A
// round makes every fragment the committer appended since the last round durable together.
struct SyncRoundStats {
  std::size_t files = 0;       // segment files fdatasynced
  std::size_t fragments = 0;   // fragments the round answered (stored, duplicate or failed)
  double segment_seconds = 0;  // the fdatasyncs (in parallel, SyncPool)
  double index_seconds = 0;    // the synced index write (0 when the round wrote no record)
};

struct FragmentStoreOptions {
  std::filesystem::path blobs_dir;                     // <data>/blobs; created if missing
  std::uint64_t segment_max_bytes = 256ULL << 20;      // roll the open segment past this size
  std::int64_t segment_max_age_ms = 60LL * 60 * 1000;  // ... or once it is this old
  std::uint64_t min_free_bytes = 256ULL << 20;         // refuse writes that would go below this
  std::size_t max_batch = 1024;                        // fragments per group commit
  std::size_t sync_threads = 32;                       // threads of the SyncPool
  std::size_t max_list_limit = 10000;                  // cap on FragmentQuery::limit
  bool direct_io = false;                              // segment appends bypass the page cache (SegmentFile)
  std::function<std::int64_t()> now_ms;                // epoch ms (segment age); default system clock
  std::function<std::uint64_t()> now_us;               // epoch us (fragment numbers); default system clock
  // Optional. Called on the sync stage's thread after each round's index write, before the
  // round's persist callbacks run; it must not block or call into the store.
  std::function<void(const SyncRoundStats&)> on_sync_round;
};

class RocksDbFragmentStore final : public kvs::FragmentStore {
 public:
  // Throws std::runtime_error when the blob directory or the index cannot be used or recovery fails.
  RocksDbFragmentStore(std::shared_ptr<Database> db, FragmentStoreOptions options);
  ~RocksDbFragmentStore() override;
  RocksDbFragmentStore(const RocksDbFragmentStore&) = delete;
  RocksDbFragmentStore& operator=(const RocksDbFragmentStore&) = delete;

  // What recovery found at open (for the lead to log); after complete_recovery(), what that found.
  [[nodiscard]] const RecoveryReport& recovery_report() const noexcept { return recovery_; }
  // Blocking; for StorageHealth when writes resume after degraded mode, once the index is
  // read-write again and while writes are still refused: waits until the pipeline is empty, then
  // runs the recovery whose index fixes were deferred at open because the index was read-only
  // (RecoveryReport::index_fixes_deferred). Returns its report, or nothing when none was deferred.
  // Not concurrent with recovery_report(). Errors: as recover().
  kvs::Result<std::optional<RecoveryReport>> complete_recovery();
  [[nodiscard]] const std::filesystem::path& blobs_dir() const noexcept { return options_.blobs_dir; }

  std::string next_fragment_number() override;
  kvs::Result<std::optional<kvs::FragmentRecord>> find_by_producer_timestamp(std::uint64_t stream_id,
                                                                             std::int64_t ms) override;
  void persist_async(kvs::IngestFragment fragment, PersistCallback done) override;
  std::uint64_t open_lane() override;
  void stage_async(std::uint64_t stream_id, std::uint64_t lane, kvs::StagedPart part) override;
  void close_lane(std::uint64_t stream_id, std::uint64_t lane) override;
  kvs::Result<std::optional<kvs::FragmentRecord>> get(std::uint64_t stream_id,
                                                      const std::string& fragment_number) override;
  kvs::Result<kvs::FragmentPage> list(const kvs::FragmentQuery& query) override;
  kvs::Result<std::vector<kvs::FragmentRecord>> list_after(std::uint64_t stream_id, const std::string& after,
                                                           std::size_t limit) override;
  kvs::Result<std::optional<kvs::FragmentRecord>> latest(std::uint64_t stream_id) override;
  kvs::Result<std::vector<std::uint8_t>> read_cluster(const kvs::FragmentRecord& record) override;
  kvs::Result<std::vector<kvs::ClusterFile>> open_clusters(const std::vector<kvs::FragmentRecord>& records) override;
  kvs::Result<std::vector<std::uint8_t>> read_header(std::uint64_t stream_id, std::uint64_t header_id) override;

  // Blocking. Closes the segment if it is the stream's open one, so nothing is appended to it
  // any more (the next fragment starts a new segment).
  void retire_segment(std::uint64_t stream_id, std::uint64_t segment_id);
  // Blocking. Closes the stream's open segment and fails every later fragment of the stream
  // (resource_not_found); stream ids are never reused. Fragments of the stream already in the
  // pipeline are settled when it returns.
  void drop_stream(std::uint64_t stream_id);

 private:
  struct OpenSegment {
    SegmentFile file;
    SegmentInfo info;       // as of the last append (appends not yet durable included)
    SegmentInfo committed;  // as last written to the index
    bool broken = false;    // a sync or index write failed: nothing more becomes durable here
    bool retired = false;   // retention took it: a lane's fragment open in it fails
  };
  // An upload's lane (open_lane; made by its first part or fragment). It owns its segment while it has one (the segment
  // is then not in open_), so the parts of its open fragment are contiguous there.
  struct Lane {
    std::uint64_t stream_id = 0;
    std::shared_ptr<OpenSegment> segment;
    std::uint64_t start = 0;          // offset of the open fragment's first part
    std::uint64_t staged = 0;         // bytes of the open fragment appended so far
    std::optional<kvs::Error> error;  // a part could not be appended: the fragment fails
  };
  // What a lane had staged for the fragment now being persisted.
  struct StagedFragment {
    std::shared_ptr<OpenSegment> segment;
    std::uint64_t start = 0;
    std::uint64_t bytes = 0;
    std::optional<kvs::Error> error;
  };
  // One fragment of a batch on its way through the pipeline.
  struct BatchItem {
    std::optional<kvs::Error> error;
    bool duplicate = false;
    std::size_t duplicate_of = SIZE_MAX;  // an earlier item of this batch with the same producer timestamp
    kvs::FragmentRecord record;           // the new record, or the stored one for a duplicate
    OpenSegment* segment = nullptr;       // kept alive by the job's `segments`
    // A staged fragment with a stored copy of the same producer timestamp: whether it replaces
    // it (see extends_stored) is decided once its staged parts are known, in the append loop.
    std::optional<kvs::FragmentRecord> stored;
    bool lane_op = false;  // a staged part or a lane's end, not a fragment: no index entry, no callback
    [[nodiscard]] bool writes() const { return !error && !duplicate && !lane_op; }
  };
  // A batch whose bytes are appended, waiting for the sync stage.
  struct SyncJob {
    std::vector<PendingFragment> batch;
    std::vector<BatchItem> items;                              // one per batch entry
    std::unordered_map<std::string, std::string> new_headers;  // key -> serialized HeaderRecord
    std::vector<std::shared_ptr<OpenSegment>> segments;        // appended to by this job
    std::vector<SegmentInfo> segment_infos;                    // each one's info after this job
    std::uint64_t fragment_number_high_water = 0;
    std::uint64_t next_segment_id = 0;
  };

  // Stage 1 (committer thread): checks, header dedup, appends; hands a SyncJob to the sync stage.
  void commit_batch(std::vector<PendingFragment>& batch);
  // commit_batch's append of one fragment; releases `lock` (on state_mutex_) while it writes.
  void append_fragment(kvs::IngestFragment& f, BatchItem& item, SyncJob& job,
                       std::unordered_set<const OpenSegment*>& appended_to, std::unique_lock<std::mutex>& lock);
  // Stage 2 (sync thread): fdatasyncs, one index write and the callbacks for every job given.
  void sync_jobs(std::vector<std::unique_ptr<SyncJob>>& jobs);
  // sync_jobs' steps, in order (fragment_commit.cpp): the round's segments; their fdatasync
  // (failures recorded); the index batch (failed segments closed and their items failed first;
  // false: nothing to write); after the write, committed infos or closed segments, and the
  // replay guard released; the callbacks, outside the state lock.
  struct SyncRound;
  SyncRound gather_segments(const std::vector<std::unique_ptr<SyncJob>>& jobs);
  void sync_segments(SyncRound& round);
  bool build_index_batch(SyncRound& round, std::vector<std::unique_ptr<SyncJob>>& jobs, rocksdb::WriteBatch& wb);
  void settle_round(SyncRound& round, std::vector<std::unique_ptr<SyncJob>>& jobs, const kvs::Status& written);
  static void complete_jobs(std::vector<std::unique_ptr<SyncJob>>& jobs);
  // Under state_mutex_: closes a segment for appends (nothing more in it becomes durable), and
  // fails every item of `jobs` appended to it.
  void close_segment(const std::shared_ptr<OpenSegment>& seg);
  static void fail_items_in(std::vector<std::unique_ptr<SyncJob>>& jobs, const OpenSegment* seg, const kvs::Error& why);
  // Blocks until everything submitted before the call has been through both stages.
  void drain_pipeline();
  // The state_mutex_ holder's helpers (fragment_commit.cpp).
  void check_replays(std::vector<PendingFragment>& batch, std::vector<BatchItem>& items);
  // True when `f` is longer than the stored fragment and begins with all of its bytes (the
  // stored copy was cut short), so it may replace it.
  // `staged`: the fragment's bytes staged before f.cluster_bytes (none when null).
  bool extends_stored(const kvs::IngestFragment& f, const kvs::FragmentRecord& stored, const StagedFragment* staged);
  // Committer helpers for lanes: appends a part; ends the lane's open fragment (returning what
  // was staged for it); picks the segment a fragment starting on the lane goes to.
  // stage_part releases `lock` (on state_mutex_) while it writes.
  void stage_part(PendingFragment& p, const BatchItem& item, std::unique_lock<std::mutex>& lock);
  void end_lane(std::uint64_t lane_id);
  StagedFragment end_lane_fragment(Lane& lane);
  // The lane of a fragment or part (made when it is the lane's first).
  Lane& lane_for(const kvs::IngestFragment& f);
  kvs::Result<std::shared_ptr<OpenSegment>> lane_segment(Lane& lane, std::uint64_t bytes);
  // Whether a fragment of `bytes` more may start in `seg` (false: roll to a new segment).
  bool segment_takes(const OpenSegment& seg, std::uint64_t bytes, std::int64_t now_ms) const;
  void check_free_space(std::vector<PendingFragment>& batch, std::vector<BatchItem>& items);
  kvs::Result<std::uint64_t> resolve_header(std::uint64_t stream_id, const std::vector<std::uint8_t>& content,
                                            std::unordered_map<std::string, std::string>& new_headers);
  kvs::Result<std::shared_ptr<OpenSegment>> segment_for(std::uint64_t stream_id, std::uint64_t bytes);
  kvs::Result<std::shared_ptr<OpenSegment>> new_segment(std::uint64_t stream_id);
  kvs::Result<std::optional<kvs::FragmentRecord>> lookup_producer_timestamp(std::uint64_t stream_id, std::int64_t ms);

  std::shared_ptr<Database> db_;
  FragmentStoreOptions options_;
  RecoveryReport recovery_;
  std::unique_ptr<FragmentNumberGenerator> numbers_;

  // Guards the members below and every OpenSegment's fields but its `file`: only the committer
  // appends to a SegmentFile (and does so without the lock), the sync stage only syncs it.
  std::mutex state_mutex_;
  // Shared: a segment closed for appends (rolled, retired, dropped) lives on in the sync jobs
  // that still have to make its bytes durable.
  std::unordered_map<std::uint64_t, std::shared_ptr<OpenSegment>> open_;  // by stream: the unowned one
  std::unordered_map<std::uint64_t, Lane> lanes_;                         // by lane id
  std::atomic<std::uint64_t> next_lane_{1};
  // (stream id, producer timestamp) of fragments appended but not yet through the sync stage: a
  // replay of one of them waits for the sync stage, so the replay check finds it in the index.
  std::multiset<std::pair<std::uint64_t, std::int64_t>> syncing_;
  std::unordered_set<std::uint64_t> dropped_;
  // Per stream: header content -> header_id, for contents known to be in the index.
  std::unordered_map<std::uint64_t, std::unordered_map<std::string, std::uint64_t>> header_ids_;
  std::uint64_t next_segment_id_ = 1;

  std::unique_ptr<SyncPool> sync_pool_;                            // used by the sync stage
  std::unique_ptr<BatchWorker<std::unique_ptr<SyncJob>>> syncer_;  // stopped after the committer
  std::unique_ptr<GroupCommitter> committer_;                      // declared last: stopped before the rest goes
};

}  // namespace kvsd::storage
