#include "storage/rocksdb_fragment_store.hpp"

#include <rocksdb/db.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "storage/index_ops.hpp"
#include "storage/key_codec.hpp"

namespace kvsd::storage {

namespace {

std::int64_t system_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::uint64_t system_now_us() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

kvs::Result<kvs::FragmentRecord> load_fragment(const Database& db, std::uint64_t stream_id, std::uint64_t number) {
  std::string value;
  const auto s = db.db().Get(rocksdb::ReadOptions(), db.family(Family::fragments), id_key(stream_id, number), &value);
  if (s.IsNotFound())
    return kvs::Error{kvs::errc::resource_not_found, "fragment " + format_fragment_number(number) + " not found"};
  if (!s.ok()) return index_error("read fragment", s);
  kvs::FragmentRecord r;
  if (!parse_fragment(value, r)) return kvs::Error{kvs::errc::internal, "fragment index: corrupt fragment record"};
  return r;
}

}  // namespace

RocksDbFragmentStore::RocksDbFragmentStore(std::shared_ptr<Database> db, FragmentStoreOptions options)
    : db_(std::move(db)), options_(std::move(options)) {
  if (!options_.now_ms) options_.now_ms = system_now_ms;
  if (!options_.now_us) options_.now_us = system_now_us;
  std::error_code ec;
  std::filesystem::create_directories(options_.blobs_dir, ec);
  if (ec) throw std::runtime_error("cannot create blob directory " + options_.blobs_dir.string() + ": " + ec.message());

  {
    const auto pin = db_->pin();
    auto report = recover(*db_, options_.blobs_dir);
    if (!report) throw std::runtime_error(report.error().message);
    recovery_ = report.value();

    auto high_water = read_meta_u64(*db_, kMetaFragmentNumberHighWater, 0);
    if (!high_water) throw std::runtime_error(high_water.error().message);
    auto next_segment = read_meta_u64(*db_, kMetaNextSegmentId, 1);
    if (!next_segment) throw std::runtime_error(next_segment.error().message);
    next_segment_id_ = next_segment.value();
    numbers_ = std::make_unique<FragmentNumberGenerator>(high_water.value(), options_.now_us);
  }
  sync_pool_ = std::make_unique<SyncPool>(options_.sync_threads);
  syncer_ = std::make_unique<BatchWorker<std::unique_ptr<SyncJob>>>(
      [this](std::vector<std::unique_ptr<SyncJob>>& jobs) { sync_jobs(jobs); }, options_.max_batch, "kvsd-sync");
  committer_ = std::make_unique<GroupCommitter>([this](std::vector<PendingFragment>& b) { commit_batch(b); },
                                                options_.max_batch, "kvsd-commit");
}

RocksDbFragmentStore::~RocksDbFragmentStore() {
  committer_->stop();  // hands its last jobs to the sync stage
  syncer_->stop();
}

std::string RocksDbFragmentStore::next_fragment_number() { return format_fragment_number(numbers_->next()); }

kvs::Result<std::optional<kvs::FragmentRecord>> RocksDbFragmentStore::find_by_producer_timestamp(
    std::uint64_t stream_id, std::int64_t ms) {
  return lookup_producer_timestamp(stream_id, ms);
}

kvs::Result<std::optional<kvs::FragmentRecord>> RocksDbFragmentStore::lookup_producer_timestamp(std::uint64_t stream_id,
                                                                                                std::int64_t ms) {
  const auto pin = db_->pin();
  const auto start = timestamp_key(stream_id, ms, 0);
  const std::string_view prefix(start.data(), 2 * kIdBytes);
  std::unique_ptr<rocksdb::Iterator> it(
      db_->db().NewIterator(rocksdb::ReadOptions(), db_->family(Family::fragments_by_producer_ts)));
  it->Seek(start);
  if (!it->status().ok()) return index_error("seek producer timestamp", it->status());
  if (!it->Valid() || !it->key().starts_with(rocksdb::Slice(prefix.data(), prefix.size())))
    return std::optional<kvs::FragmentRecord>{};
  const auto key = decode_timestamp_key(it->key().ToStringView());
  if (!key) return kvs::Error{kvs::errc::internal, "fragment index: corrupt timestamp key"};
  auto r = load_fragment(*db_, stream_id, key->fragment_number);
  if (!r) return r.error();
  return std::optional<kvs::FragmentRecord>(std::move(r.value()));
}

void RocksDbFragmentStore::persist_async(kvs::IngestFragment fragment, PersistCallback done) {
  PendingFragment item;
  item.fragment = std::move(fragment);
  item.done = std::move(done);
  if (!committer_->submit(item))
    item.done(kvs::Error{kvs::errc::service_unavailable, "fragment store is shutting down"});
}

std::uint64_t RocksDbFragmentStore::open_lane() { return next_lane_.fetch_add(1); }

void RocksDbFragmentStore::stage_async(std::uint64_t stream_id, std::uint64_t lane, kvs::StagedPart part) {
  if (part.empty()) return;
  PendingFragment item;
  item.kind = PendingFragment::Kind::part;
  item.fragment.stream_id = stream_id;
  item.fragment.lane = lane;
  item.part = std::move(part);
  (void)committer_->submit(item);  // shutting down: the fragment's persist fails anyway
}

void RocksDbFragmentStore::close_lane(std::uint64_t stream_id, std::uint64_t lane) {
  PendingFragment item;
  item.kind = PendingFragment::Kind::close_lane;
  item.fragment.stream_id = stream_id;
  item.fragment.lane = lane;
  (void)committer_->submit(item);
}

kvs::Result<std::optional<kvs::FragmentRecord>> RocksDbFragmentStore::get(std::uint64_t stream_id,
                                                                          const std::string& fragment_number) {
  const auto number = parse_fragment_number(fragment_number);
  if (!number) return std::optional<kvs::FragmentRecord>{};
  const auto pin = db_->pin();
  auto r = load_fragment(*db_, stream_id, *number);
  if (!r) {
    if (r.error().code == kvs::errc::resource_not_found) return std::optional<kvs::FragmentRecord>{};
    return r.error();
  }
  return std::optional<kvs::FragmentRecord>(std::move(r.value()));
}

kvs::Result<kvs::FragmentPage> RocksDbFragmentStore::list(const kvs::FragmentQuery& q) {
  const auto pin = db_->pin();
  kvs::FragmentPage page;
  if (q.to_ms < q.from_ms) return page;
  const auto family =
      q.kind == kvs::TimestampKind::producer ? Family::fragments_by_producer_ts : Family::fragments_by_server_ts;
  const std::size_t limit = std::clamp<std::size_t>(q.limit, 1, options_.max_list_limit);
  std::string start = timestamp_key(q.stream_id, q.from_ms, 0);
  std::string after;  // the cursor key: resume strictly after it
  if (!q.cursor.empty()) {
    auto decoded = decode_cursor(q.cursor);
    const auto key = decoded ? decode_timestamp_key(*decoded) : std::nullopt;
    if (!key || key->stream_id != q.stream_id)
      return kvs::Error{kvs::errc::invalid_argument, "NextToken is not a token this listing returned"};
    after = std::move(*decoded);
    if (after > start) start = after;
  }
  const auto end = timestamp_key(q.stream_id, q.to_ms, UINT64_MAX);  // inclusive
  std::unique_ptr<rocksdb::Iterator> it(db_->db().NewIterator(rocksdb::ReadOptions(), db_->family(family)));
  std::string last_key;
  for (it->Seek(start); it->Valid(); it->Next()) {
    const auto key = it->key().ToStringView();
    if (key > std::string_view(end)) break;
    if (!after.empty() && key == std::string_view(after)) continue;
    if (page.fragments.size() == limit) {
      page.next_cursor = encode_cursor(last_key);
      break;
    }
    const auto decoded = decode_timestamp_key(key);
    if (!decoded) return kvs::Error{kvs::errc::internal, "fragment index: corrupt timestamp key"};
    auto r = load_fragment(*db_, q.stream_id, decoded->fragment_number);
    if (!r) {
      // Removed by retention between the index read and this one: skip it.
      if (r.error().code == kvs::errc::resource_not_found) continue;
      return r.error();
    }
    page.fragments.push_back(std::move(r.value()));
    last_key.assign(key.data(), key.size());
  }
  if (!it->status().ok()) return index_error("list", it->status());
  return page;
}

kvs::Result<std::vector<kvs::FragmentRecord>> RocksDbFragmentStore::list_after(std::uint64_t stream_id,
                                                                               const std::string& after,
                                                                               std::size_t limit) {
  std::vector<kvs::FragmentRecord> out;
  std::uint64_t from = 0;
  if (!after.empty()) {
    const auto number = parse_fragment_number(after);
    if (!number) return kvs::Error{kvs::errc::invalid_argument, "not a fragment number of this server: " + after};
    if (*number == UINT64_MAX) return out;
    from = *number + 1;
  }
  limit = std::clamp<std::size_t>(limit, 1, options_.max_list_limit);
  const auto pin = db_->pin();
  const auto prefix = stream_prefix(stream_id);
  std::unique_ptr<rocksdb::Iterator> it(db_->db().NewIterator(rocksdb::ReadOptions(), db_->family(Family::fragments)));
  for (it->Seek(id_key(stream_id, from)); it->Valid() && out.size() < limit; it->Next()) {
    if (!it->key().starts_with(prefix)) break;
    kvs::FragmentRecord r;
    if (!parse_fragment(it->value().ToStringView(), r))
      return kvs::Error{kvs::errc::internal, "fragment index: corrupt fragment record"};
    out.push_back(std::move(r));
  }
  if (!it->status().ok()) return index_error("list_after", it->status());
  return out;
}

kvs::Result<std::optional<kvs::FragmentRecord>> RocksDbFragmentStore::latest(std::uint64_t stream_id) {
  const auto pin = db_->pin();
  std::unique_ptr<rocksdb::Iterator> it(db_->db().NewIterator(rocksdb::ReadOptions(), db_->family(Family::fragments)));
  const auto prefix = stream_prefix(stream_id);
  it->SeekForPrev(id_key(stream_id, UINT64_MAX));
  if (!it->status().ok()) return index_error("latest", it->status());
  if (!it->Valid() || !it->key().starts_with(prefix)) return std::optional<kvs::FragmentRecord>{};
  kvs::FragmentRecord r;
  if (!parse_fragment(it->value().ToStringView(), r))
    return kvs::Error{kvs::errc::internal, "fragment index: corrupt fragment record"};
  return std::optional<kvs::FragmentRecord>(std::move(r));
}

kvs::Result<std::vector<std::uint8_t>> RocksDbFragmentStore::read_cluster(const kvs::FragmentRecord& record) {
  return read_segment_range(segment_path(options_.blobs_dir, record.stream_id, record.segment_id), record.offset,
                            record.size_bytes);
}

kvs::Result<std::vector<kvs::ClusterFile>> RocksDbFragmentStore::open_clusters(
    const std::vector<kvs::FragmentRecord>& records) {
  std::map<std::pair<std::uint64_t, std::uint64_t>, OpenedSegment> opened;  // (stream, segment) ->
  std::vector<kvs::ClusterFile> out;
  out.reserve(records.size());
  for (const auto& r : records) {
    auto it = opened.find({r.stream_id, r.segment_id});
    if (it == opened.end()) {
      auto seg = open_segment(segment_path(options_.blobs_dir, r.stream_id, r.segment_id));
      if (!seg) return seg.error();
      it = opened.emplace(std::make_pair(r.stream_id, r.segment_id), std::move(seg.value())).first;
    }
    auto cluster = it->second.range(r.offset, r.size_bytes);
    if (!cluster) return cluster.error();
    out.push_back(std::move(cluster.value()));
  }
  return out;
}

kvs::Result<std::vector<std::uint8_t>> RocksDbFragmentStore::read_header(std::uint64_t stream_id,
                                                                         std::uint64_t header_id) {
  const auto pin = db_->pin();
  std::string value;
  const auto s =
      db_->db().Get(rocksdb::ReadOptions(), db_->family(Family::headers), id_key(stream_id, header_id), &value);
  if (s.IsNotFound()) return kvs::Error{kvs::errc::resource_not_found, "stream header not found"};
  if (!s.ok()) return index_error("read header", s);
  std::vector<std::uint8_t> out;
  if (!parse_header(value, out)) return kvs::Error{kvs::errc::internal, "fragment index: corrupt header record"};
  return out;
}

void RocksDbFragmentStore::retire_segment(std::uint64_t stream_id, std::uint64_t segment_id) {
  {
    std::lock_guard lock(state_mutex_);
    const auto it = open_.find(stream_id);
    if (it != open_.end() && it->second->file.segment_id() == segment_id) {
      it->second->retired = true;
      open_.erase(it);
    }
    for (auto& [id, lane] : lanes_) {
      if (lane.stream_id == stream_id && lane.segment && lane.segment->file.segment_id() == segment_id)
        lane.segment->retired = true;  // the lane moves on at its next fragment
    }
  }
  drain_pipeline();  // appends made before it are indexed (or failed) when this returns
}

void RocksDbFragmentStore::drop_stream(std::uint64_t stream_id) {
  {
    std::lock_guard lock(state_mutex_);
    open_.erase(stream_id);
    for (auto& [id, lane] : lanes_) {
      if (lane.stream_id == stream_id) lane.segment.reset();
    }
    header_ids_.erase(stream_id);
    dropped_.insert(stream_id);
  }
  drain_pipeline();  // fragments of the stream in flight have failed when this returns
}

kvs::Result<std::optional<RecoveryReport>> RocksDbFragmentStore::complete_recovery() {
  drain_pipeline();  // writes are refused: nothing new reaches a segment file from here on
  if (recovery_.index_fixes_deferred == 0) return std::optional<RecoveryReport>{};
  const auto pin = db_->pin();
  auto report = recover(*db_, options_.blobs_dir);
  if (!report) return report.error();
  recovery_ = report.value();
  return std::optional<RecoveryReport>(report.value());
}

void RocksDbFragmentStore::drain_pipeline() {
  committer_->drain();  // its batches are handed to the sync stage before they count as done
  syncer_->drain();
}

}  // namespace kvsd::storage
