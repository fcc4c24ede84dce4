#pragma once
// FragmentStore: durable storage of ingested fragments (blob segment files + RocksDB index).
// See docs/storage.md for files, keys and the durability rule.
//
// Threading: every method is safe to call from several threads at once. Methods marked
// "blocking" may touch the disk and must be called through exec::offload (never on an I/O
// thread). persist_async() never blocks; its callback runs on a store thread and must only post
// work elsewhere (it must not block or call back into the store synchronously).

#include <unistd.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "kvs/result.hpp"

namespace kvs {

struct FragmentTrack {
  std::uint64_t track_number = 0;
  std::uint64_t frames = 0;
  std::uint64_t key_frames = 0;
};

// An open read-only file descriptor, closed with the last owner. A segment file may be deleted
// (retention) while a reader holds it open; the reader still sees every byte.
class FileHandle {
 public:
  explicit FileHandle(int fd) noexcept : fd_(fd) {}
  ~FileHandle() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileHandle(const FileHandle&) = delete;
  FileHandle& operator=(const FileHandle&) = delete;
  [[nodiscard]] int fd() const noexcept { return fd_; }

 private:
  int fd_;
};

// Where a fragment's cluster bytes are: `size` bytes at `offset` of `file`.
struct ClusterFile {
  std::shared_ptr<const FileHandle> file;
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
};

// One stored fragment, as the index records it.
struct FragmentRecord {
  std::uint64_t stream_id = 0;
  // Decimal digits, fixed width, unique per server, increasing in arrival order (so string order
  // is number order). What ACKs and ListFragments show as FragmentNumber.
  std::string fragment_number;
  std::uint64_t cluster_timecode = 0;  // as received, TimecodeScale units
  std::int64_t producer_timestamp_ms = 0;
  std::int64_t server_timestamp_ms = 0;  // when the first byte of the fragment arrived
  std::int64_t duration_ms = 0;
  std::uint64_t header_id = 0;   // the stored stream header this cluster follows
  std::uint64_t segment_id = 0;  // blob segment file holding the cluster bytes
  std::uint64_t offset = 0;      // of the cluster bytes in that segment
  std::uint64_t size_bytes = 0;  // cluster bytes length (FragmentSizeInBytes)
  std::vector<FragmentTrack> tracks;
  std::vector<std::pair<std::string, std::string>> metadata;  // user fragment metadata
};

// Bytes owned elsewhere: `bytes` stays valid while `owner` is held.
struct SharedBytes {
  std::shared_ptr<const void> owner;
  std::span<const std::uint8_t> bytes;
};
// A part of a fragment handed over before the fragment is complete: these ranges, in order.
using StagedPart = std::vector<SharedBytes>;

// The number of bytes in a staged part.
inline std::uint64_t part_size(const StagedPart& part) {
  std::uint64_t n = 0;
  for (const auto& range : part) n += range.bytes.size();
  return n;
}

// What the ingest path hands over for one completed fragment.
struct IngestFragment {
  std::uint64_t stream_id = 0;
  std::string fragment_number;  // from next_fragment_number()
  // The stream header in force (EBML + Segment header + Info + Tracks). The store keeps one
  // copy per distinct content per stream and records its id in the FragmentRecord.
  std::shared_ptr<const std::vector<std::uint8_t>> header;
  // The cluster's bytes; when `staged_bytes` > 0, only those after the parts staged on `lane`.
  std::vector<std::uint8_t> cluster_bytes;
  std::uint64_t lane = 0;          // from open_lane(); 0: none
  std::uint64_t staged_bytes = 0;  // bytes of the cluster given to stage_async() before this
  std::uint64_t cluster_timecode = 0;
  std::int64_t producer_timestamp_ms = 0;
  std::int64_t server_timestamp_ms = 0;
  std::int64_t duration_ms = 0;
  std::vector<FragmentTrack> tracks;
  std::vector<std::pair<std::string, std::string>> metadata;
};

struct PersistOutcome {
  FragmentRecord record;
  // True when the stream already had a fragment with the same producer timestamp (a producer
  // replay after a reconnect) at least as long: nothing was written and `record` is the stored one.
  bool duplicate = false;
};

enum class TimestampKind { producer, server };

struct FragmentQuery {
  std::uint64_t stream_id = 0;
  TimestampKind kind = TimestampKind::server;
  std::int64_t from_ms = 0;  // inclusive
  std::int64_t to_ms = 0;    // inclusive
  std::size_t limit = 1000;
  std::string cursor;  // empty: from the start; else the value of a previous next_cursor
};

struct FragmentPage {
  std::vector<FragmentRecord> fragments;  // in timestamp order
  std::string next_cursor;                // empty: no more
};

class FragmentStore {
 public:
  virtual ~FragmentStore() = default;

  // A fresh fragment number. Never blocks; unique across restarts.
  virtual std::string next_fragment_number() = 0;

  // Blocking. The stored fragment of `stream_id` whose producer timestamp equals `ms`, if any
  // (the replay check made when a fragment starts).
  virtual Result<std::optional<FragmentRecord>> find_by_producer_timestamp(std::uint64_t stream_id,
                                                                           std::int64_t ms) = 0;

  // Queues the fragment for the next group commit and returns at once. `done` is called exactly
  // once, from a store thread, after the cluster bytes are fsynced and the index batch is written
  // with sync (or with the error: internal / storage full). A replay of a stored producer
  // timestamp completes with duplicate=true without writing, unless its cluster is longer than
  // the stored one and begins with all of the stored bytes (the stored copy was cut short): it
  // then replaces it under the same fragment number and server timestamp (duplicate=false).
  using PersistCallback = std::function<void(Result<PersistOutcome>)>;
  virtual void persist_async(IngestFragment fragment, PersistCallback done) = 0;

  // Streaming appends: an upload hands a fragment's bytes over in parts as they arrive, so they
  // are on their way to disk before the fragment is complete and only its last part is left to
  // write and sync then. Never block.
  // - open_lane(): a lane for one upload. A lane appends to a segment file no other lane appends
  //   to, so a fragment's parts stay contiguous. 0: the store does not stage (the caller then
  //   persists whole fragments).
  // - stage_async(): the next part of the lane's open fragment of `stream_id`. Errors surface at
  //   the fragment's persist.
  // - persist_async() with `lane` and `staged_bytes` = the bytes staged for this fragment completes
  //   it with the rest. It fails (internal) when the lane's parts did not all reach the segment.
  //   Parts of a fragment that is never persisted, or turns out to be a replay, stay in the
  //   segment unindexed until retention deletes the segment.
  // - close_lane(): the upload ended (after its last persist_async or stage_async).
  virtual std::uint64_t open_lane() { return 0; }
  virtual void stage_async(std::uint64_t /*stream_id*/, std::uint64_t /*lane*/, StagedPart /*part*/) {}
  virtual void close_lane(std::uint64_t /*stream_id*/, std::uint64_t /*lane*/) {}

  // Blocking reads.
  virtual Result<std::optional<FragmentRecord>> get(std::uint64_t stream_id, const std::string& fragment_number) = 0;
  virtual Result<FragmentPage> list(const FragmentQuery& query) = 0;
  // Up to `limit` fragments of the stream whose numbers are greater than `after` (empty: from the
  // first), in fragment-number order, which is arrival order.
  virtual Result<std::vector<FragmentRecord>> list_after(std::uint64_t stream_id, const std::string& after,
                                                         std::size_t limit) = 0;
  // The newest fragment of the stream, if any.
  virtual Result<std::optional<FragmentRecord>> latest(std::uint64_t stream_id) = 0;
  virtual Result<std::vector<std::uint8_t>> read_cluster(const FragmentRecord& record) = 0;
  // Blocking: opens the clusters' segment files (each file once, however many of the records it
  // holds) and reads the ranges into the page cache, so that sends from the files straight after
  // (sendfile) find the bytes there. One ClusterFile per record, in order. An error when a file
  // is gone or shorter than a record.
  virtual Result<std::vector<ClusterFile>> open_clusters(const std::vector<FragmentRecord>& records) = 0;
  virtual Result<std::vector<std::uint8_t>> read_header(std::uint64_t stream_id, std::uint64_t header_id) = 0;
};

}  // namespace kvs
