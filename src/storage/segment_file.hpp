#pragma once
// SegmentFile: one append-only blob segment (<blobs>/<stream_id hex16>/<segment_id hex16>.seg)
// holding cluster bytes back to back. Owns the file descriptor. Blob paths and the directory
// fsync helper live here too.
//
// Threading: a SegmentFile is used by one thread at a time (the committer); sync_all() syncs
// several files on helper threads and returns when all are done.
// Errors: kvs::errc::internal with the failing call and strerror.

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
  // Creates a new, empty segment file (failing if it exists) and makes its directory entry
  // durable (creating the stream directory when needed).
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
  kvs::Status sync();

  [[nodiscard]] std::uint64_t size() const noexcept { return size_; }
  [[nodiscard]] std::uint64_t segment_id() const noexcept { return segment_id_; }
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

 private:
  SegmentFile(int fd, std::filesystem::path path, std::uint64_t segment_id);
  int fd_ = -1;
  std::filesystem::path path_;
  std::uint64_t segment_id_ = 0;
  std::uint64_t size_ = 0;
};

// fdatasyncs every file, in parallel on up to `max_threads` threads when there is more than one.
// Returns one status per file, in order.
std::vector<kvs::Status> sync_all(const std::vector<SegmentFile*>& files, std::size_t max_threads);

// pread of `size` bytes at `offset` of a segment file. Errors: internal (missing file, short read).
kvs::Result<std::vector<std::uint8_t>> read_segment_range(const std::filesystem::path& path, std::uint64_t offset,
                                                          std::uint64_t size);

// Opens a segment file read-only for `size` bytes at `offset` and reads them into the page cache
// (readahead). Errors: internal (missing file, or shorter than offset + size).
kvs::Result<kvs::ClusterFile> open_segment_range(const std::filesystem::path& path, std::uint64_t offset,
                                                 std::uint64_t size);

}  // namespace kvsd::storage
