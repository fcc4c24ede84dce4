#include "storage/recovery.hpp"

#include <fcntl.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <set>
#include <system_error>
#include <utility>
#include <vector>

#include "storage/index_ops.hpp"
#include "storage/key_codec.hpp"
#include "storage/record_codec.hpp"
#include "storage/segment_file.hpp"

namespace kvsd::storage {

namespace {

kvs::Error fs_error(const std::string& what, const std::filesystem::path& p, const std::string& why) {
  return kvs::Error{kvs::errc::internal, "recovery: " + what + " " + p.string() + ": " + why};
}

// Deletes the index entries of fragments stored in `segment_id` whose bytes end beyond
// `valid_bytes`. Returns how many.
kvs::Result<std::uint64_t> drop_fragments_beyond(const Database& db, rocksdb::WriteBatch& batch,
                                                 std::uint64_t stream_id, std::uint64_t segment_id,
                                                 std::uint64_t valid_bytes) {
  const auto prefix = stream_prefix(stream_id);
  std::unique_ptr<rocksdb::Iterator> it(db.db().NewIterator(rocksdb::ReadOptions(), db.family(Family::fragments)));
  std::uint64_t dropped = 0;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    kvs::FragmentRecord r;
    if (!parse_fragment(it->value().ToStringView(), r)) continue;
    if (r.segment_id != segment_id || r.offset + r.size_bytes <= valid_bytes) continue;
    delete_fragment_entries(batch, db, r);
    ++dropped;
  }
  if (!it->status().ok()) return index_error("scan fragments", it->status());
  return dropped;
}

kvs::Status truncate_file(const std::filesystem::path& p, std::uint64_t size) {
  const int fd = ::open(p.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return fs_error("open", p, std::strerror(errno));
  int rc = ::ftruncate(fd, static_cast<off_t>(size));
  if (rc == 0) rc = ::fdatasync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return fs_error("truncate", p, std::strerror(err));
  return kvs::Unit{};
}

}  // namespace

kvs::Result<RecoveryReport> recover(const Database& db, const std::filesystem::path& blobs_dir) {
  RecoveryReport report;
  auto next_segment = read_meta_u64(db, kMetaNextSegmentId, 1);
  if (!next_segment) return next_segment.error();

  std::vector<SegmentInfo> segments;
  {
    std::unique_ptr<rocksdb::Iterator> it(db.db().NewIterator(rocksdb::ReadOptions(), db.family(Family::segments)));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      SegmentInfo info;
      if (!parse_segment(it->value().ToStringView(), info))
        return kvs::Error{kvs::errc::internal, "recovery: corrupt segment record"};
      segments.push_back(info);
    }
    if (!it->status().ok()) return index_error("scan segments", it->status());
  }

  std::set<std::pair<std::uint64_t, std::uint64_t>> known;
  rocksdb::WriteBatch batch;
  for (auto& info : segments) {
    ++report.segments_checked;
    known.emplace(info.stream_id, info.segment_id);
    const auto path = segment_path(blobs_dir, info.stream_id, info.segment_id);
    std::error_code ec;
    const auto exists = std::filesystem::exists(path, ec);
    const std::uint64_t actual = exists ? std::filesystem::file_size(path, ec) : 0;
    if (ec) return fs_error("stat", path, ec.message());
    if (!exists || actual < info.size_bytes) {
      ++report.missing_segments;
      auto dropped = drop_fragments_beyond(db, batch, info.stream_id, info.segment_id, actual);
      if (!dropped) return dropped.error();
      report.fragments_dropped += dropped.value();
      if (!exists) {
        batch.Delete(db.family(Family::segments), id_key(info.stream_id, info.segment_id));
        continue;
      }
      info.size_bytes = actual;
      batch.Put(db.family(Family::segments), id_key(info.stream_id, info.segment_id), serialize_segment(info));
    } else if (actual > info.size_bytes) {
      auto ok = truncate_file(path, info.size_bytes);
      if (!ok) return ok.error();
      ++report.torn_tails_truncated;
      report.torn_bytes_truncated += actual - info.size_bytes;
    }
  }
  if (batch.Count() > 0 && db.read_only()) {
    report.index_fixes_deferred = static_cast<std::uint64_t>(batch.Count());
  } else if (batch.Count() > 0) {
    auto ok = write_synced(db, batch, "recovery");
    if (!ok) return ok.error();
  }

  std::error_code ec;
  if (!std::filesystem::exists(blobs_dir, ec)) return report;
  for (const auto& stream_dir : std::filesystem::directory_iterator(blobs_dir, ec)) {
    const auto stream_id = parse_hex16(stream_dir.path().filename().string());
    if (!stream_id || !stream_dir.is_directory()) continue;
    bool removed = false;
    std::error_code inner;
    for (const auto& file : std::filesystem::directory_iterator(stream_dir.path(), inner)) {
      const auto name = file.path().filename().string();
      if (name.size() != 20 || name.substr(16) != ".seg") continue;
      const auto segment_id = parse_hex16(std::string_view(name).substr(0, 16));
      if (!segment_id || known.count({*stream_id, *segment_id}) != 0) continue;
      std::error_code rm;
      std::filesystem::remove(file.path(), rm);
      if (rm) return fs_error("remove", file.path(), rm.message());
      removed = true;
      if (*segment_id >= next_segment.value())
        ++report.unindexed_segments_deleted;
      else
        ++report.orphan_segments_deleted;
    }
    if (inner) return fs_error("list", stream_dir.path(), inner.message());
    if (removed) {
      auto ok = fsync_dir(stream_dir.path());
      if (!ok) return ok.error();
    }
  }
  if (ec) return fs_error("list", blobs_dir, ec.message());
  return report;
}

}  // namespace kvsd::storage
