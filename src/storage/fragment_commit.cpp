// RocksDbFragmentStore's group commit (runs on the committer thread only). One batch:
//   1. replay check (stored producer timestamp, or an earlier item of this batch) -> duplicate,
//      unless the new copy is longer and starts with the stored bytes: it then replaces them;
//   2. free-space floor (statvfs) -> internal error for items that would cross it;
//   3. header dedup, append of each cluster to its stream's open segment;
//   4. fdatasync of every dirty segment (in parallel), failures roll the segment back;
//   5. one synced WriteBatch: fragments, timestamp indexes, new headers, segment records, meta;
//   6. callbacks, outside the state lock.

#include <sys/statvfs.h>

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <utility>

#include "storage/index_ops.hpp"
#include "storage/key_codec.hpp"
#include "storage/rocksdb_fragment_store.hpp"

namespace kvsd::storage {

namespace {

constexpr std::size_t kNone = std::numeric_limits<std::size_t>::max();
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

struct RocksDbFragmentStore::BatchItem {
  std::optional<kvs::Error> error;
  bool duplicate = false;
  std::size_t duplicate_of = kNone;  // an earlier item of this batch with the same producer timestamp
  kvs::FragmentRecord record;        // the new record, or the stored one for a duplicate
  OpenSegment* segment = nullptr;
  [[nodiscard]] bool writes() const { return !error && !duplicate; }
};

bool RocksDbFragmentStore::extends_stored(const kvs::IngestFragment& f, const kvs::FragmentRecord& stored) {
  if (f.cluster_bytes.size() <= stored.size_bytes) return false;
  auto bytes = read_cluster(stored);
  if (!bytes) return false;  // unreadable: keep what is indexed, the replay is dropped
  return std::equal(bytes->begin(), bytes->end(), f.cluster_bytes.begin());
}

void RocksDbFragmentStore::check_replays(std::vector<PendingFragment>& batch, std::vector<BatchItem>& items) {
  std::map<std::pair<std::uint64_t, std::int64_t>, std::size_t> seen;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    auto& f = batch[i].fragment;
    auto& item = items[i];
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
    if (stored.value()) {
      auto& prior = *stored.value();
      if (!extends_stored(f, prior)) {
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
  struct statvfs vfs {};
  if (::statvfs(options_.blobs_dir.c_str(), &vfs) != 0) {
    const std::string why = std::strerror(errno);
    for (auto& item : items) {
      if (item.writes()) item.error = kvs::Error{kvs::errc::internal, "statvfs of the blob directory: " + why};
    }
    return;
  }
  const std::uint64_t available = static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize;
  std::uint64_t planned = 0;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (!items[i].writes()) continue;
    const std::uint64_t need = batch[i].fragment.cluster_bytes.size();
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

kvs::Result<RocksDbFragmentStore::OpenSegment*> RocksDbFragmentStore::segment_for(std::uint64_t stream_id,
                                                                                  std::uint64_t bytes) {
  const auto now = options_.now_ms();
  if (auto it = open_.find(stream_id); it != open_.end()) {
    auto& seg = it->second;
    const bool full = seg.file.size() > 0 && seg.file.size() + bytes > options_.segment_max_bytes;
    const bool old = now - seg.info.created_ms >= options_.segment_max_age_ms;
    // A segment with uncommitted appends of this batch stays until the batch is done.
    if ((!full && !old) || seg.info.size_bytes != seg.committed.size_bytes) return &seg;
    open_.erase(it);
  }
  const auto segment_id = next_segment_id_;
  auto file = SegmentFile::create(options_.blobs_dir, stream_id, segment_id);
  if (!file) return file.error();
  ++next_segment_id_;
  SegmentInfo info;
  info.stream_id = stream_id;
  info.segment_id = segment_id;
  info.created_ms = now;
  auto [it, inserted] = open_.emplace(stream_id, OpenSegment{std::move(file.value()), info, info});
  return &it->second;
}

void RocksDbFragmentStore::commit_batch(std::vector<PendingFragment>& batch) {
  std::vector<BatchItem> items(batch.size());
  {
    std::lock_guard lock(state_mutex_);
    check_replays(batch, items);
    check_free_space(batch, items);

    std::unordered_map<std::string, std::string> new_headers;  // key -> serialized HeaderRecord
    std::vector<OpenSegment*> dirty;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      auto& item = items[i];
      if (!item.writes()) continue;
      auto& f = batch[i].fragment;
      auto header_id = resolve_header(f.stream_id, *f.header, new_headers);
      if (!header_id) {
        item.error = header_id.error();
        continue;
      }
      auto seg = segment_for(f.stream_id, f.cluster_bytes.size());
      if (!seg) {
        item.error = seg.error();
        continue;
      }
      auto offset = seg.value()->file.append(std::span<const std::uint8_t>(f.cluster_bytes));
      if (!offset) {
        item.error = offset.error();
        continue;
      }
      auto& r = item.record;
      r.stream_id = f.stream_id;
      r.fragment_number = f.fragment_number;
      r.cluster_timecode = f.cluster_timecode;
      r.producer_timestamp_ms = f.producer_timestamp_ms;
      r.server_timestamp_ms = f.server_timestamp_ms;
      r.duration_ms = f.duration_ms;
      r.header_id = header_id.value();
      r.segment_id = seg.value()->file.segment_id();
      r.offset = offset.value();
      r.size_bytes = f.cluster_bytes.size();
      r.tracks = std::move(f.tracks);
      r.metadata = std::move(f.metadata);
      item.segment = seg.value();
      auto& info = item.segment->info;
      if (std::find(dirty.begin(), dirty.end(), item.segment) == dirty.end()) dirty.push_back(item.segment);
      info.size_bytes = item.segment->file.size();
      info.fragment_count += 1;
      info.newest_server_timestamp_ms = std::max(info.newest_server_timestamp_ms, r.server_timestamp_ms);
      info.max_fragment_number =
          std::max(info.max_fragment_number, parse_fragment_number(r.fragment_number).value_or(0));
    }

    // Roll back a segment: forget this batch's appends in it and fail its items.
    auto roll_back = [&](OpenSegment* seg, const kvs::Error& why) {
      (void)seg->file.truncate(seg->committed.size_bytes);
      seg->info = seg->committed;
      for (auto& item : items) {
        if (item.segment == seg && item.writes()) item.error = why;
      }
    };

    std::vector<SegmentFile*> files;
    for (auto* seg : dirty) files.push_back(&seg->file);
    const auto synced = sync_all(files, options_.sync_threads);
    std::vector<OpenSegment*> good;
    std::vector<std::uint64_t> broken;
    for (std::size_t i = 0; i < dirty.size(); ++i) {
      if (synced[i]) {
        good.push_back(dirty[i]);
      } else {
        roll_back(dirty[i], synced[i].error());
        broken.push_back(dirty[i]->info.stream_id);
      }
    }

    rocksdb::WriteBatch wb;
    bool any = false;
    for (const auto& item : items) {
      if (!item.writes()) continue;
      any = true;
      const auto& r = item.record;
      const auto number = parse_fragment_number(r.fragment_number).value_or(0);
      wb.Put(db_->family(Family::fragments), id_key(r.stream_id, number), serialize_fragment(r));
      wb.Put(db_->family(Family::fragments_by_producer_ts), timestamp_key(r.stream_id, r.producer_timestamp_ms, number),
             "");
      wb.Put(db_->family(Family::fragments_by_server_ts), timestamp_key(r.stream_id, r.server_timestamp_ms, number),
             "");
    }
    if (any) {
      for (const auto& [key, value] : new_headers) wb.Put(db_->family(Family::headers), key, value);
      for (auto* seg : good)
        wb.Put(db_->family(Family::segments), id_key(seg->info.stream_id, seg->info.segment_id),
               serialize_segment(seg->info));
      put_meta_u64(wb, *db_, kMetaFragmentNumberHighWater, numbers_->highest_issued());
      put_meta_u64(wb, *db_, kMetaNextSegmentId, next_segment_id_);
      auto written = write_synced(*db_, wb, "commit");
      if (!written) {
        for (auto* seg : good) roll_back(seg, written.error());
        good.clear();
        header_ids_.clear();  // headers of this batch are not stored after all
      }
    }
    for (auto* seg : good) seg->committed = seg->info;
    // A segment whose sync failed is in an unknown state: stop appending to it.
    for (const auto stream_id : broken) open_.erase(stream_id);
  }

  for (std::size_t i = 0; i < batch.size(); ++i) {
    auto& item = items[i];
    auto& done = batch[i].done;
    if (item.error) {
      done(*item.error);
    } else if (item.duplicate && item.duplicate_of != kNone) {
      const auto& first = items[item.duplicate_of];
      if (first.error)
        done(*first.error);
      else
        done(kvs::PersistOutcome{first.record, true});
    } else {
      done(kvs::PersistOutcome{item.record, item.duplicate});  // copied: later duplicates read it
    }
  }
}

}  // namespace kvsd::storage
