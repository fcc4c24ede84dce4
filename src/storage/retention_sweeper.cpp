#include "storage/retention_sweeper.hpp"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

#include "storage/index_ops.hpp"
#include "storage/key_codec.hpp"
#include "storage/segment_file.hpp"

namespace kvsd::storage {

namespace {

constexpr std::int64_t kMsPerHour = 60LL * 60 * 1000;

kvs::Result<std::optional<SegmentInfo>> load_segment(const Database& db, std::uint64_t stream_id,
                                                     std::uint64_t segment_id) {
  std::string value;
  const auto s =
      db.db().Get(rocksdb::ReadOptions(), db.family(Family::segments), id_key(stream_id, segment_id), &value);
  if (s.IsNotFound()) return std::optional<SegmentInfo>{};
  if (!s.ok()) return index_error("read segment", s);
  SegmentInfo info;
  if (!parse_segment(value, info)) return kvs::Error{kvs::errc::internal, "fragment index: corrupt segment record"};
  return std::optional<SegmentInfo>(info);
}

kvs::Error fs_error(const std::string& what, const std::filesystem::path& p, const std::error_code& ec) {
  return kvs::Error{kvs::errc::internal, "retention: " + what + " " + p.string() + ": " + ec.message()};
}

}  // namespace

RetentionSweeper::RetentionSweeper(std::shared_ptr<Database> db, RocksDbFragmentStore& fragments,
                                   RocksDbStreamStore& streams, RetentionOptions options)
    : db_(std::move(db)), fragments_(fragments), streams_(streams), options_(options) {}

kvs::Result<SweepReport> RetentionSweeper::run_once(std::int64_t now_ms) {
  std::lock_guard lock(run_mutex_);
  SweepReport report;
  if (db_->refusing_writes()) return report;  // degraded: every step below writes the index
  const auto pin = db_->pin();

  auto deleting = streams_.list_deleting();
  if (!deleting) return deleting.error();
  for (const auto& info : deleting.value()) {
    auto ok = purge_stream(info.stream_id, report);
    if (!ok) return ok.error();
  }

  // stream_id -> how long its data is kept.
  std::unordered_map<std::uint64_t, std::int64_t> keep_ms;
  kvs::ListStreamsInput in;
  do {
    auto page = streams_.list(in);
    if (!page) return page.error();
    for (const auto& s : page->streams) {
      keep_ms[s.stream_id] =
          s.data_retention_in_hours == 0 ? options_.zero_retention_keep_ms : s.data_retention_in_hours * kMsPerHour;
    }
    in.next_token = page->next_token;
  } while (!in.next_token.empty());

  std::vector<std::pair<SegmentInfo, std::int64_t>> expired;
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->db().NewIterator(rocksdb::ReadOptions(), db_->family(Family::segments)));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      SegmentInfo info;
      if (!parse_segment(it->value().ToStringView(), info))
        return kvs::Error{kvs::errc::internal, "fragment index: corrupt segment record"};
      const auto keep = keep_ms.find(info.stream_id);
      if (keep == keep_ms.end()) continue;
      if (now_ms - info.newest_server_timestamp_ms > keep->second) expired.emplace_back(info, keep->second);
    }
    if (!it->status().ok()) return index_error("scan segments", it->status());
  }
  for (const auto& [info, keep] : expired) {
    auto ok = expire_segment(info, keep, now_ms, report);
    if (!ok) return ok.error();
  }
  return report;
}

kvs::Status RetentionSweeper::expire_segment(const SegmentInfo& candidate, std::int64_t keep_ms, std::int64_t now_ms,
                                             SweepReport& report) {
  const auto stream_id = candidate.stream_id;
  const auto segment_id = candidate.segment_id;
  // After this no batch appends to the segment, so the record read next is final.
  fragments_.retire_segment(stream_id, segment_id);
  auto current = load_segment(*db_, stream_id, segment_id);
  if (!current) return current.error();
  if (!current.value() || now_ms - current.value()->newest_server_timestamp_ms <= keep_ms) return kvs::Unit{};
  const auto& info = *current.value();

  rocksdb::WriteBatch batch;
  std::uint64_t fragments = 0;
  {
    // Every fragment of the segment has a number <= max_fragment_number.
    const auto prefix = stream_prefix(stream_id);
    const auto last = id_key(stream_id, info.max_fragment_number);
    std::unique_ptr<rocksdb::Iterator> it(
        db_->db().NewIterator(rocksdb::ReadOptions(), db_->family(Family::fragments)));
    for (it->Seek(prefix); it->Valid() && it->key().compare(last) <= 0; it->Next()) {
      kvs::FragmentRecord r;
      if (!parse_fragment(it->value().ToStringView(), r))
        return kvs::Error{kvs::errc::internal, "fragment index: corrupt fragment record"};
      if (r.segment_id != segment_id) continue;
      delete_fragment_entries(batch, *db_, r);
      ++fragments;
    }
    if (!it->status().ok()) return index_error("scan fragments", it->status());
  }
  batch.Delete(db_->family(Family::segments), id_key(stream_id, segment_id));
  auto ok = write_synced(*db_, batch, "retention");
  if (!ok) return ok;

  const auto path = segment_path(fragments_.blobs_dir(), stream_id, segment_id);
  std::error_code ec;
  std::filesystem::remove(path, ec);
  if (ec) return fs_error("remove", path, ec);
  report.segments_deleted += 1;
  report.fragments_deleted += fragments;
  report.bytes_freed += info.size_bytes;
  return kvs::Unit{};
}

kvs::Status RetentionSweeper::purge_stream(std::uint64_t stream_id, SweepReport& report) {
  fragments_.drop_stream(stream_id);
  const auto begin = stream_prefix(stream_id);
  const auto end = stream_prefix(stream_id + 1);
  std::uint64_t fragments = 0;
  std::uint64_t bytes = 0;
  {
    std::unique_ptr<rocksdb::Iterator> it(
        db_->db().NewIterator(rocksdb::ReadOptions(), db_->family(Family::fragments)));
    for (it->Seek(begin); it->Valid() && it->key().starts_with(begin); it->Next()) ++fragments;
    if (!it->status().ok()) return index_error("scan fragments", it->status());
    it.reset(db_->db().NewIterator(rocksdb::ReadOptions(), db_->family(Family::segments)));
    for (it->Seek(begin); it->Valid() && it->key().starts_with(begin); it->Next()) {
      SegmentInfo info;
      if (parse_segment(it->value().ToStringView(), info)) bytes += info.size_bytes;
    }
    if (!it->status().ok()) return index_error("scan segments", it->status());
  }
  rocksdb::WriteBatch batch;
  for (const auto f : {Family::fragments, Family::fragments_by_producer_ts, Family::fragments_by_server_ts,
                       Family::headers, Family::segments})
    batch.DeleteRange(db_->family(f), begin, end);
  auto ok = write_synced(*db_, batch, "purge stream");
  if (!ok) return ok;

  const auto dir = stream_blob_dir(fragments_.blobs_dir(), stream_id);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  if (ec) return fs_error("remove", dir, ec);
  ok = fsync_dir(fragments_.blobs_dir());
  if (!ok) return ok;
  ok = streams_.purge_deleted(stream_id);
  if (!ok) return ok;
  report.streams_purged += 1;
  report.fragments_deleted += fragments;
  report.bytes_freed += bytes;
  return kvs::Unit{};
}

}  // namespace kvsd::storage
