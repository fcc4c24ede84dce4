// RocksDbFragmentStore's sync stage (stage 2 of the group commit, see fragment_commit.cpp): for
// every job queued meanwhile, the fdatasync of the segments they appended to, one synced index
// batch, then the callbacks.

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <chrono>
#include <optional>
#include <unordered_map>
#include <vector>

#include "storage/index_ops.hpp"
#include "storage/key_codec.hpp"
#include "storage/rocksdb_fragment_store.hpp"

namespace kvsd::storage {

// The segments of one sync round: every segment the round's jobs appended to, its info after the
// last of them, and why it failed (an earlier write, its fdatasync, or the index write).
struct RocksDbFragmentStore::SyncRound {
  std::vector<std::shared_ptr<OpenSegment>> segments;
  std::vector<SegmentInfo> infos;
  std::vector<std::optional<kvs::Error>> failed;
  std::size_t files = 0;  // segments given to fdatasync
  double segment_seconds = 0;
};

RocksDbFragmentStore::SyncRound RocksDbFragmentStore::gather_segments(
    const std::vector<std::unique_ptr<SyncJob>>& jobs) {
  SyncRound round;
  std::unordered_map<const OpenSegment*, std::size_t> index;
  for (const auto& job : jobs) {
    for (std::size_t i = 0; i < job->segments.size(); ++i) {
      const auto [it, added] = index.emplace(job->segments[i].get(), round.segments.size());
      if (added) {
        round.segments.push_back(job->segments[i]);
        round.infos.push_back(job->segment_infos[i]);
      } else {
        round.infos[it->second] = job->segment_infos[i];
      }
    }
  }
  round.failed.resize(round.segments.size());
  return round;
}

void RocksDbFragmentStore::sync_segments(SyncRound& round) {
  std::vector<SegmentFile*> files;
  std::vector<std::size_t> synced_index;
  {
    std::lock_guard lock(state_mutex_);
    for (std::size_t k = 0; k < round.segments.size(); ++k) {
      if (round.segments[k]->broken) {
        round.failed[k] = kvs::Error{kvs::errc::internal, "an earlier write to the segment failed"};
      } else {
        files.push_back(&round.segments[k]->file);
        synced_index.push_back(k);
      }
    }
  }
  // fdatasync only reads the descriptor; the committer may append to the same files meanwhile.
  using Clock = std::chrono::steady_clock;
  const auto sync_start = Clock::now();
  const auto synced = sync_pool_->sync(files);
  round.segment_seconds = std::chrono::duration<double>(Clock::now() - sync_start).count();
  round.files = files.size();
  for (std::size_t j = 0; j < files.size(); ++j) {
    if (!synced[j]) round.failed[synced_index[j]] = synced[j].error();
  }
}

void RocksDbFragmentStore::close_segment(const std::shared_ptr<OpenSegment>& seg) {
  seg->broken = true;
  const auto it = open_.find(seg->info.stream_id);
  if (it != open_.end() && it->second == seg) open_.erase(it);
}

void RocksDbFragmentStore::fail_items_in(std::vector<std::unique_ptr<SyncJob>>& jobs, const OpenSegment* seg,
                                         const kvs::Error& why) {
  for (auto& job : jobs)
    for (auto& item : job->items)
      if (item.segment == seg && item.writes()) item.error = why;
}

bool RocksDbFragmentStore::build_index_batch(SyncRound& round, std::vector<std::unique_ptr<SyncJob>>& jobs,
                                             rocksdb::WriteBatch& wb) {
  bool any = false;
  std::lock_guard lock(state_mutex_);
  for (std::size_t k = 0; k < round.segments.size(); ++k) {
    if (!round.failed[k]) continue;
    close_segment(round.segments[k]);
    fail_items_in(jobs, round.segments[k].get(), *round.failed[k]);
  }
  for (auto& job : jobs) {
    for (auto& item : job->items) {
      if (item.writes() && dropped_.count(item.record.stream_id) != 0)
        item.error = kvs::Error{kvs::errc::resource_not_found, "the stream was deleted"};
    }
  }
  for (const auto& job : jobs) {
    for (const auto& item : job->items) {
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
  }
  if (!any) return false;
  for (const auto& job : jobs)
    for (const auto& [key, value] : job->new_headers) wb.Put(db_->family(Family::headers), key, value);
  for (std::size_t k = 0; k < round.segments.size(); ++k) {
    if (round.failed[k] || dropped_.count(round.infos[k].stream_id) != 0) continue;
    wb.Put(db_->family(Family::segments), id_key(round.infos[k].stream_id, round.infos[k].segment_id),
           serialize_segment(round.infos[k]));
  }
  put_meta_u64(wb, *db_, kMetaFragmentNumberHighWater, jobs.back()->fragment_number_high_water);
  put_meta_u64(wb, *db_, kMetaNextSegmentId, jobs.back()->next_segment_id);
  return true;
}

void RocksDbFragmentStore::settle_round(SyncRound& round, std::vector<std::unique_ptr<SyncJob>>& jobs,
                                        const kvs::Status& written) {
  std::lock_guard lock(state_mutex_);
  for (std::size_t k = 0; k < round.segments.size(); ++k) {
    if (round.failed[k]) continue;
    if (!written) {
      close_segment(round.segments[k]);
      fail_items_in(jobs, round.segments[k].get(), written.error());
    } else {
      round.segments[k]->committed = round.infos[k];
    }
  }
  if (!written) header_ids_.clear();  // headers of these jobs are not stored after all
  for (const auto& job : jobs) {
    for (std::size_t i = 0; i < job->items.size(); ++i) {
      if (job->items[i].segment == nullptr) continue;  // never appended
      const auto& f = job->batch[i].fragment;
      const auto it = syncing_.find({f.stream_id, f.producer_timestamp_ms});
      if (it != syncing_.end()) syncing_.erase(it);
    }
  }
}

void RocksDbFragmentStore::complete_jobs(std::vector<std::unique_ptr<SyncJob>>& jobs) {
  for (auto& job : jobs) {
    auto& items = job->items;
    for (std::size_t i = 0; i < job->batch.size(); ++i) {
      auto& item = items[i];
      auto& done = job->batch[i].done;
      if (item.lane_op) continue;
      if (item.error) {
        done(*item.error);
      } else if (item.duplicate && item.duplicate_of != SIZE_MAX) {
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
}

void RocksDbFragmentStore::sync_jobs(std::vector<std::unique_ptr<SyncJob>>& jobs) {
  // Steps 5-7 of the file comment: fdatasync, one synced index batch, then the callbacks.
  SyncRound round = gather_segments(jobs);
  sync_segments(round);
  // The batch names family handles of the current instance: they stay valid until it is written.
  const auto pin = db_->pin();
  rocksdb::WriteBatch wb;
  const bool any = build_index_batch(round, jobs, wb);
  const auto index_start = std::chrono::steady_clock::now();
  const auto written = any ? write_synced(*db_, wb, "commit") : kvs::Status(kvs::Unit{});
  if (options_.on_sync_round) {
    SyncRoundStats stats;
    stats.files = round.files;
    for (const auto& job : jobs)
      for (const auto& item : job->items) stats.fragments += item.lane_op ? 0 : 1;
    stats.segment_seconds = round.segment_seconds;
    if (any)
      stats.index_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - index_start).count();
    options_.on_sync_round(stats);
  }
  settle_round(round, jobs, written);
  complete_jobs(jobs);
}

}  // namespace kvsd::storage
