#pragma once
// SegmentFile: one append-only blob segment (<blobs>/<stream_id hex16>/<segment_id hex16>.seg)
// holding cluster bytes back to back. Owns the file descriptor. Blob paths and the directory
// fsync helper live here too.
//
// Threading: a SegmentFile is used by one thread at a time (the committer); sync_all() syncs
// several files on helper threads and returns when all are done.
// Errors: kvs::errc::internal with the failing call and strerror.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "kvs/fragment_store.hpp"
#include "kvs/stream_store.hpp"

namespace kvsd::storage {

std::filesystem::path stream_blob_dir(const std::filesystem::path& blobs_dir, std::uint64_t stream_id);
std::filesystem::path segment_path(const std::filesystem::path& blobs_dir, std::uint64_t stream_id,
                                   std::uint64_t segment_id);

// fsync of a directory, so entries created or removed in it are durable.
kvs::Status fsync_dir(const std::filesystem::path& dir);

class SegmentFile {
 public:
  // Creates a new, empty segment file (failing if it exists), and the stream directory when
  // needed. Nothing is synced here: the directory entries become durable with the file's first
  // sync (sync() or sync_all()), so creating segments for many streams costs no extra journal
  // commits on the committer thread.
  static kvs::Result<SegmentFile> create(const std::filesystem::path& blobs_dir, std::uint64_t stream_id,
                                         std::uint64_t segment_id);

  SegmentFile(SegmentFile&& other) noexcept;
  SegmentFile& operator=(SegmentFile&& other) noexcept;
  SegmentFile(const SegmentFile&) = delete;
  SegmentFile& operator=(const SegmentFile&) = delete;
  ~SegmentFile();

  // Writes `bytes` at the current end and returns their offset. On failure the file is cut back
  // to its previous end (best effort) and size() is unchanged.
  kvs::Result<std::uint64_t> append(std::span<const std::uint8_t> bytes);
  // Cuts the file back to `size` bytes (rolling back appends that were not indexed).
  kvs::Status truncate(std::uint64_t size);
  // fdatasync; the first one also fsyncs the directories created with the file.
  kvs::Status sync();
  // syncfs(2) of the file system holding this file: every dirty file on it is written and the
  // journal committed in one call (errors of any file on it are reported, Linux >= 5.8).
  kvs::Status sync_file_system();

  [[nodiscard]] std::uint64_t size() const noexcept { return size_; }
  [[nodiscard]] std::uint64_t segment_id() const noexcept { return segment_id_; }
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

 private:
  SegmentFile(int fd, std::filesystem::path path, std::uint64_t segment_id);
  friend std::vector<kvs::Status> sync_all(const std::vector<SegmentFile*>& files, std::size_t max_threads);
  int fd_ = -1;
  std::filesystem::path path_;
  std::uint64_t segment_id_ = 0;
  std::uint64_t size_ = 0;
  bool created_stream_dir_ = false;  // create() made the stream directory too
  bool entries_durable_ = false;     // the directory entries are synced
};

// Makes every file durable; returns one status per file, in order. Up to kSyncfsFrom files get
// an fdatasync each, in parallel on up to `max_threads` threads; more files than that (many
// streams in one group commit) share one syncfs of their file system, which costs one journal
// commit instead of one per file. (They all live in one blob directory, so one file system.)
inline constexpr std::size_t kSyncfsFrom = 16;
std::vector<kvs::Status> sync_all(const std::vector<SegmentFile*>& files, std::size_t max_threads);

// pread of `size` bytes at `offset` of a segment file. Errors: internal (missing file, short read).
kvs::Result<std::vector<std::uint8_t>> read_segment_range(const std::filesystem::path& path, std::uint64_t offset,
                                                          std::uint64_t size);

// Opens a segment file read-only for `size` bytes at `offset` and reads them into the page cache
// (readahead). Errors: internal (missing file, or shorter than offset + size).
kvs::Result<kvs::ClusterFile> open_segment_range(const std::filesystem::path& path, std::uint64_t offset,
                                                 std::uint64_t size);

}  // namespace kvsd::storage
