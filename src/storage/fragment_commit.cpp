// RocksDbFragmentStore's two-stage group commit.
// Stage 1, commit_batch (committer thread), for one batch:
//   1. replay check (stored producer timestamp, or an earlier item of this batch) -> duplicate,
//      unless the new copy is longer and starts with the stored bytes: it then replaces them;
//      a replay of a fragment still in stage 2 first waits for stage 2 to finish it;
//   2. free-space floor (statvfs) -> internal error for items that would cross it;
//   3. in queue order: staged parts appended to their lane's segment (writeback started at
//      once); fragments' header dedup and append (a staged fragment: its last part, right after
//      the staged ones);
//   4. the batch goes to stage 2 as a SyncJob.
// Stage 2, sync_jobs (sync thread; fragment_sync.cpp), for every job queued meanwhile, together:
//   5. fdatasync of every segment they appended to (in parallel); a failed one is closed for
//      appends and its items in every job fail;
//   6. one synced WriteBatch: fragments, timestamp indexes, new headers, segment records, meta;
//   7. callbacks, outside the state lock.

#include <sys/statvfs.h>

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <optional>
#include <span>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "storage/index_ops.hpp"
#include "storage/key_codec.hpp"
#include "storage/rocksdb_fragment_store.hpp"

namespace kvsd::storage {

namespace {

constexpr std::size_t kMaxCachedHeadersPerStream = 64;

std::uint64_t fnv1a64(const std::vector<std::uint8_t>& bytes) {
  std::uint64_t h = 14695981039346656037ULL;
  for (const auto b : bytes) {
    h ^= b;
    h *= 1099511628211ULL;
  }
  return h;
}

}  // namespace

bool RocksDbFragmentStore::extends_stored(const kvs::IngestFragment& f, const kvs::FragmentRecord& stored,
                                          const StagedFragment* staged) {
  const std::uint64_t head = staged != nullptr ? staged->bytes : 0;
  if (head + f.cluster_bytes.size() <= stored.size_bytes) return false;
  auto bytes = read_cluster(stored);
  if (!bytes) return false;  // unreadable: keep what is indexed, the replay is dropped
  std::size_t compared = 0;
  if (head > 0) {
    compared = static_cast<std::size_t>(std::min<std::uint64_t>(head, bytes->size()));
    auto staged_bytes = read_segment_range(staged->segment->file.path(), staged->start, compared);
    if (!staged_bytes || !std::equal(staged_bytes->begin(), staged_bytes->end(), bytes->begin())) return false;
  }
  return std::equal(bytes->begin() + static_cast<std::ptrdiff_t>(compared), bytes->end(), f.cluster_bytes.begin());
}

void RocksDbFragmentStore::check_replays(std::vector<PendingFragment>& batch, std::vector<BatchItem>& items) {
  std::map<std::pair<std::uint64_t, std::int64_t>, std::size_t> seen;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    auto& f = batch[i].fragment;
    auto& item = items[i];
    if (batch[i].kind != PendingFragment::Kind::fragment) {
      item.lane_op = true;
      continue;
    }
    if (dropped_.count(f.stream_id) != 0) {
      item.error = kvs::Error{kvs::errc::resource_not_found, "the stream was deleted"};
      continue;
    }
    if (f.fragment_number.empty()) f.fragment_number = format_fragment_number(numbers_->next());
    if (!parse_fragment_number(f.fragment_number)) {
      item.error = kvs::Error{kvs::errc::invalid_argument, "not a fragment number: " + f.fragment_number};
      continue;
    }
    if (!f.header) {
      item.error = kvs::Error{kvs::errc::invalid_argument, "fragment without a stream header"};
      continue;
    }
    const auto key = std::make_pair(f.stream_id, f.producer_timestamp_ms);
    if (const auto it = seen.find(key); it != seen.end()) {
      item.duplicate = true;
      item.duplicate_of = it->second;
      continue;
    }
    auto stored = lookup_producer_timestamp(f.stream_id, f.producer_timestamp_ms);
    if (!stored) {
      item.error = stored.error();
      continue;
    }
    if (stored.value() && f.staged_bytes > 0) {
      item.stored = std::move(stored.value());  // decided in the append loop, with the staged parts
    } else if (stored.value()) {
      auto& prior = *stored.value();
      if (!extends_stored(f, prior, nullptr)) {
        item.duplicate = true;
        item.record = std::move(prior);
        continue;
      }
      // A longer copy that starts with every stored byte: the stored one was cut short (the
      // producer reset its connection after a whole block, so the cut looked like a clean end).
      // The complete copy replaces it under the same number and timestamps, so everything that
      // was acknowledged is still there; the old bytes become garbage that retention reclaims
      // with their segment.
      f.fragment_number = prior.fragment_number;
      f.server_timestamp_ms = prior.server_timestamp_ms;
    }
    seen.emplace(key, i);
  }
}

void RocksDbFragmentStore::check_free_space(std::vector<PendingFragment>& batch, std::vector<BatchItem>& items) {
  if (auto admitted = db_->admit_writes(); !admitted) {  // degraded mode: nothing is written
    for (auto& item : items) {
      if (item.writes() || (item.lane_op && !item.error)) item.error = admitted.error();
    }
    return;
  }
  struct statvfs vfs {};
  if (::statvfs(options_.blobs_dir.c_str(), &vfs) != 0) {
    const std::string why = std::strerror(errno);
    for (auto& item : items) {
      if (item.writes() || item.lane_op)
        item.error = kvs::Error{kvs::errc::internal, "statvfs of the blob directory: " + why};
    }
    return;
  }
  const std::uint64_t available = static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize;
  std::uint64_t planned = 0;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const bool part = batch[i].kind == PendingFragment::Kind::part;
    if (!items[i].writes() && !(part && !items[i].error)) continue;
    const std::uint64_t need = part ? kvs::part_size(batch[i].part) : batch[i].fragment.cluster_bytes.size();
    if (available < options_.min_free_bytes || available - options_.min_free_bytes < planned + need) {
      items[i].error =
          kvs::Error{kvs::errc::internal, "storage full: " + std::to_string(available) + " bytes free, floor " +
                                              std::to_string(options_.min_free_bytes)};
      continue;
    }
    planned += need;
  }
}

kvs::Result<std::uint64_t> RocksDbFragmentStore::resolve_header(
    std::uint64_t stream_id, const std::vector<std::uint8_t>& content,
    std::unordered_map<std::string, std::string>& new_headers) {
  auto& cache = header_ids_[stream_id];
  const std::string text(content.begin(), content.end());
  if (const auto it = cache.find(text); it != cache.end()) return it->second;
  const auto pin = db_->pin();
  // header_id = content hash, probing upwards past (astronomically unlikely) collisions.
  for (std::uint64_t id = fnv1a64(content);; ++id) {
    const auto key = id_key(stream_id, id);
    std::vector<std::uint8_t> existing;
    bool found = false;
    if (const auto it = new_headers.find(key); it != new_headers.end()) {
      found = parse_header(it->second, existing);
    } else {
      std::string value;
      const auto s = db_->db().Get(rocksdb::ReadOptions(), db_->family(Family::headers), key, &value);
      if (!s.ok() && !s.IsNotFound()) return index_error("read header", s);
      if (s.ok()) {
        if (!parse_header(value, existing)) return kvs::Error{kvs::errc::internal, "corrupt header record"};
        found = true;
      }
    }
    if (!found) {
      new_headers.emplace(key, serialize_header(content));
      return id;
    }
    if (existing == content) {
      if (cache.size() >= kMaxCachedHeadersPerStream) cache.clear();
      cache.emplace(text, id);
      return id;
    }
  }
}

bool RocksDbFragmentStore::segment_takes(const OpenSegment& seg, std::uint64_t bytes, std::int64_t now_ms) const {
  if (seg.broken || seg.retired) return false;
  // A segment with appends not yet durable stays until they are (the sync stage may still roll
  // them back by closing it).
  if (seg.info.size_bytes != seg.committed.size_bytes) return true;
  const bool full = seg.file.size() > 0 && seg.file.size() + bytes > options_.segment_max_bytes;
  const bool old = now_ms - seg.info.created_ms >= options_.segment_max_age_ms;
  return !full && !old;
}

kvs::Result<std::shared_ptr<RocksDbFragmentStore::OpenSegment>> RocksDbFragmentStore::new_segment(
    std::uint64_t stream_id) {
  const auto segment_id = next_segment_id_;
  auto file = SegmentFile::create(options_.blobs_dir, stream_id, segment_id, options_.direct_io);
  if (!file) return file.error();
  ++next_segment_id_;
  SegmentInfo info;
  info.stream_id = stream_id;
  info.segment_id = segment_id;
  info.created_ms = options_.now_ms();
  return std::make_shared<OpenSegment>(OpenSegment{std::move(file.value()), info, info, false, false});
}

kvs::Result<std::shared_ptr<RocksDbFragmentStore::OpenSegment>> RocksDbFragmentStore::segment_for(
    std::uint64_t stream_id, std::uint64_t bytes) {
  // A lane of the moment: it takes the stream's segment (or a new one), which goes straight back.
  Lane passing;
  passing.stream_id = stream_id;
  auto seg = lane_segment(passing, bytes);
  if (seg) open_[stream_id] = seg.value();
  return seg;
}

RocksDbFragmentStore::Lane& RocksDbFragmentStore::lane_for(const kvs::IngestFragment& f) {
  auto& lane = lanes_[f.lane];
  lane.stream_id = f.stream_id;
  return lane;
}

kvs::Result<std::shared_ptr<RocksDbFragmentStore::OpenSegment>> RocksDbFragmentStore::lane_segment(
    Lane& lane, std::uint64_t bytes) {
  const auto now = options_.now_ms();
  if (lane.segment && segment_takes(*lane.segment, bytes, now)) return lane.segment;
  lane.segment.reset();
  // The stream's unowned segment, when it takes the fragment (one upload after another keeps
  // filling one segment); else a new one.
  if (auto it = open_.find(lane.stream_id); it != open_.end()) {
    auto seg = std::move(it->second);
    open_.erase(it);
    if (segment_takes(*seg, bytes, now)) lane.segment = std::move(seg);
  }
  if (!lane.segment) {
    auto seg = new_segment(lane.stream_id);
    if (!seg) return seg.error();
    lane.segment = std::move(seg.value());
  }
  return lane.segment;
}

void RocksDbFragmentStore::stage_part(PendingFragment& p, const BatchItem& item, std::unique_lock<std::mutex>& lock) {
  auto& lane = lane_for(p.fragment);
  if (lane.error) return;  // the open fragment fails already
  if (dropped_.count(lane.stream_id) != 0) {
    lane.error = kvs::Error{kvs::errc::resource_not_found, "the stream was deleted"};
    return;
  }
  if (item.error) {
    lane.error = item.error;
    return;
  }
  const auto size = kvs::part_size(p.part);
  if (lane.staged == 0) {
    auto seg = lane_segment(lane, size);
    if (!seg) {
      lane.error = seg.error();
      return;
    }
    lane.start = seg.value()->file.size();
  } else if (lane.segment->broken || lane.segment->retired) {
    lane.error = kvs::Error{kvs::errc::internal, "the segment of the fragment was closed while it was staged"};
    return;
  }
  // The write runs without the state lock (see commit_batch); `seg` keeps the segment alive.
  const auto seg = lane.segment;
  lock.unlock();
  auto offset = seg->file.append(p.part);
  if (offset) seg->file.start_writeback(offset.value(), size);
  lock.lock();
  if (!offset) {
    lane.error = offset.error();
    return;
  }
  if (lane.segment != seg) {  // the stream was dropped meanwhile
    lane.error = kvs::Error{kvs::errc::resource_not_found, "the stream was deleted"};
    return;
  }
  lane.staged += size;
}

void RocksDbFragmentStore::end_lane(std::uint64_t lane_id) {
  const auto it = lanes_.find(lane_id);
  if (it == lanes_.end()) return;
  auto& lane = it->second;
  // Its segment goes back to the stream for the next upload to fill (unless one is there).
  if (lane.segment && !lane.segment->broken && !lane.segment->retired && dropped_.count(lane.stream_id) == 0)
    open_.try_emplace(lane.stream_id, std::move(lane.segment));
  lanes_.erase(it);
}

RocksDbFragmentStore::StagedFragment RocksDbFragmentStore::end_lane_fragment(Lane& lane) {
  StagedFragment out{lane.segment, lane.start, lane.staged, std::move(lane.error)};
  lane.staged = 0;
  lane.error.reset();
  return out;
}

// Step 3 for one fragment: its header id, the segment it goes to (its lane's, or the stream's
// open one) and the append, done without the state lock; fills `item` with its record (or its
// error) and registers the segment with the job.
void RocksDbFragmentStore::append_fragment(kvs::IngestFragment& f, BatchItem& item, SyncJob& job,
                                           std::unordered_set<const OpenSegment*>& appended_to,
                                           std::unique_lock<std::mutex>& lock) {
  // A fragment on a lane ends here whatever becomes of it: the lane's next part starts the next one.
  const bool on_lane = f.lane != 0;
  const auto staged = on_lane ? end_lane_fragment(lane_for(f)) : StagedFragment{};
  if (!item.writes()) return;
  if (f.staged_bytes > 0 && (staged.error || !staged.segment || staged.bytes != f.staged_bytes)) {
    item.error = staged.error
                     ? *staged.error
                     : kvs::Error{kvs::errc::internal, "the fragment's staged parts did not all reach its segment"};
    return;
  }
  if (item.stored) {
    if (!extends_stored(f, *item.stored, &staged)) {
      item.duplicate = true;
      item.record = std::move(*item.stored);
      return;
    }
    f.fragment_number = item.stored->fragment_number;  // replaces a copy that was cut short
    f.server_timestamp_ms = item.stored->server_timestamp_ms;
  }
  auto header_id = resolve_header(f.stream_id, *f.header, job.new_headers);
  if (!header_id) {
    item.error = header_id.error();
    return;
  }
  const std::uint64_t size = f.staged_bytes + f.cluster_bytes.size();
  std::shared_ptr<OpenSegment> seg;
  if (f.staged_bytes > 0) {
    seg = staged.segment;
    if (seg->broken || seg->retired || seg->file.size() != staged.start + staged.bytes) {
      item.error = kvs::Error{kvs::errc::internal, "the segment of the fragment was closed while it was staged"};
      return;
    }
  } else {
    auto chosen = on_lane ? lane_segment(lane_for(f), size) : segment_for(f.stream_id, size);
    if (!chosen) {
      item.error = chosen.error();
      return;
    }
    seg = std::move(chosen.value());
  }
  auto& segment = *seg;
  // The device write runs without the state lock, so the sync stage (which takes it three
  // times a round) and retention do not wait for a batch's writes. Safe because only this
  // thread appends to a segment or changes its SegmentFile, and `seg` keeps it alive; what
  // the others may do meanwhile (close it as broken, retire it, drop the stream) is what
  // they could have done right after the batch, and the sync stage checks for it.
  lock.unlock();
  auto offset = segment.file.append(std::span<const std::uint8_t>(f.cluster_bytes));
  lock.lock();
  if (!offset) {
    item.error = offset.error();
    return;
  }
  auto& r = item.record;
  r.stream_id = f.stream_id;
  r.fragment_number = f.fragment_number;
  r.cluster_timecode = f.cluster_timecode;
  r.producer_timestamp_ms = f.producer_timestamp_ms;
  r.server_timestamp_ms = f.server_timestamp_ms;
  r.duration_ms = f.duration_ms;
  r.header_id = header_id.value();
  r.segment_id = segment.file.segment_id();
  r.offset = f.staged_bytes > 0 ? staged.start : offset.value();
  r.size_bytes = size;
  r.tracks = std::move(f.tracks);
  r.metadata = std::move(f.metadata);
  item.segment = &segment;
  if (appended_to.insert(&segment).second) job.segments.push_back(seg);
  auto& info = segment.info;
  info.size_bytes = segment.file.size();
  info.fragment_count += 1;
  info.newest_server_timestamp_ms = std::max(info.newest_server_timestamp_ms, r.server_timestamp_ms);
  info.max_fragment_number = std::max(info.max_fragment_number, parse_fragment_number(r.fragment_number).value_or(0));
  syncing_.insert({f.stream_id, f.producer_timestamp_ms});
}

void RocksDbFragmentStore::commit_batch(std::vector<PendingFragment>& batch) {
  bool replays_syncing = false;
  {
    std::lock_guard lock(state_mutex_);
    for (const auto& p : batch) {
      if (p.kind == PendingFragment::Kind::fragment &&
          syncing_.count({p.fragment.stream_id, p.fragment.producer_timestamp_ms}) != 0) {
        replays_syncing = true;
        break;
      }
    }
  }
  if (replays_syncing) syncer_->drain();  // rare: a producer re-sent what is being synced

  auto job = std::make_unique<SyncJob>();
  job->items.resize(batch.size());
  auto& items = job->items;
  std::unordered_set<const OpenSegment*> appended_to;
  {
    std::unique_lock lock(state_mutex_);
    check_replays(batch, items);
    check_free_space(batch, items);

    for (std::size_t i = 0; i < batch.size(); ++i) {
      auto& item = items[i];
      if (batch[i].kind == PendingFragment::Kind::part) {
        stage_part(batch[i], item, lock);
        batch[i].part.clear();  // its bytes are in the page cache now
        continue;
      }
      if (batch[i].kind == PendingFragment::Kind::close_lane) {
        end_lane(batch[i].fragment.lane);
        continue;
      }
      append_fragment(batch[i].fragment, item, *job, appended_to, lock);
    }
    for (const auto& seg : job->segments) job->segment_infos.push_back(seg->info);
    job->fragment_number_high_water = numbers_->highest_issued();
    job->next_segment_id = next_segment_id_;
  }
  // The bytes are in the page cache now; the pipeline needs only the records.
  for (auto& p : batch) std::vector<std::uint8_t>().swap(p.fragment.cluster_bytes);
  job->batch = std::move(batch);
  if (!syncer_->submit(job)) {
    std::vector<std::unique_ptr<SyncJob>> last;
    last.push_back(std::move(job));
    sync_jobs(last);
  }
}

}  // namespace kvsd::storage
