#pragma once
// SegmentFile: one append-only blob segment (<blobs>/<stream_id hex16>/<segment_id hex16>.seg)
// holding cluster bytes back to back. Owns the file descriptor. Blob paths and the directory
// fsync helper live here too.
//
// Direct mode (create(..., direct = true)): appends bypass the page cache (O_DIRECT). The bytes
// are copied into a block-aligned buffer of the appending thread and written in whole blocks;
// the last, partial block is written padded with zeros and written again, with the bytes that
// follow, by the next append (this file keeps a copy of it). So the file on disk may run up to
// one block past size() while it is open; the destructor cuts it back, and after a crash
// recovery does (the padding lies past the indexed end). Readers use their own buffered
// descriptors: the kernel drops cached pages of a range written directly. Where the file
// system refuses O_DIRECT (setting it on the file, or the first write: EINVAL), the file falls
// back to buffered writes.
// Why: on virtual machines, copying into the page cache and writing it back cost several times
// the CPU of the same bytes written directly (see docs/storage.md).
//
// Threading: append() and truncate() are called by one thread (the committer); sync() by one
// thread at a time (a SyncPool thread), possibly while the committer appends; sync() touches no
// state that append() uses.
// Errors: kvs::errc::internal with the failing call and strerror.

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
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
  // sync(), so creating segments for many streams costs no extra journal
  // commits on the committer thread.
  static kvs::Result<SegmentFile> create(const std::filesystem::path& blobs_dir, std::uint64_t stream_id,
                                         std::uint64_t segment_id, bool direct = false);

  SegmentFile(SegmentFile&& other) noexcept;
  SegmentFile& operator=(SegmentFile&& other) noexcept;
  SegmentFile(const SegmentFile&) = delete;
  SegmentFile& operator=(const SegmentFile&) = delete;
  ~SegmentFile();

  // Writes `bytes` at the current end and returns their offset. On failure the file is cut back
  // to its previous end (best effort) and size() is unchanged. Appending nothing writes nothing
  // (a fragment whose bytes were all staged ends with an empty append; in direct mode a write
  // would put the partial last block on the disk again, a device round trip for nothing).
  kvs::Result<std::uint64_t> append(std::span<const std::uint8_t> bytes);
  // The same for several ranges written back to back (one pwritev per up to IOV_MAX of them).
  kvs::Result<std::uint64_t> append(const kvs::StagedPart& ranges);
  // Starts writing `size` bytes at `offset` back to the disk without waiting for them
  // (sync_file_range WRITE), so a later sync() finds less to do. Best effort: no error. Nothing
  // to do in direct mode (the bytes are on the disk when append returns).
  void start_writeback(std::uint64_t offset, std::uint64_t size) noexcept;
  // Cuts the file back to `size` bytes (rolling back appends that were not indexed).
  kvs::Status truncate(std::uint64_t size);
  // fdatasync; the first one also fsyncs the directories created with the file.
  kvs::Status sync();

  [[nodiscard]] std::uint64_t size() const noexcept { return size_; }
  [[nodiscard]] std::uint64_t segment_id() const noexcept { return segment_id_; }
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }
  // Appends bypass the page cache (false after a fallback to buffered writes).
  [[nodiscard]] bool direct() const noexcept { return tail_ != nullptr; }

  // The block size direct appends align to (offsets, lengths and buffer addresses).
  static constexpr std::size_t kBlock = 4096;

 private:
  struct FreeAligned {
    void operator()(std::uint8_t* p) const noexcept;
  };
  using AlignedBytes = std::unique_ptr<std::uint8_t, FreeAligned>;

  SegmentFile(int fd, std::filesystem::path path, std::uint64_t segment_id);
  kvs::Result<std::uint64_t> append_buffered(const kvs::StagedPart& ranges);
  kvs::Result<std::uint64_t> append_direct(const kvs::StagedPart& ranges);
  // pwrite of `size` (a multiple of kBlock) bytes at the block-aligned `at`; 0 or errno. On
  // EINVAL the first time, switches the file to buffered writes and writes them that way.
  int write_blocks(const std::uint8_t* data, std::size_t size, std::uint64_t at);
  void leave_direct_mode() noexcept;
  void close_fd() noexcept;  // cuts a direct file's padding, then closes

  int fd_ = -1;
  std::filesystem::path path_;
  std::uint64_t segment_id_ = 0;
  std::uint64_t size_ = 0;
  bool created_stream_dir_ = false;  // create() made the stream directory too
  bool entries_durable_ = false;     // the directory entries are synced
  // Direct mode only: a copy of the bytes [size_ rounded down to kBlock, size_) (the partial
  // last block; on disk it is padded with zeros to kBlock).
  AlignedBytes tail_;
  bool wrote_direct_ = false;  // a direct write has succeeded (EINVAL after that is an error)
};

// SyncPool: fdatasyncs a set of segment files (SegmentFile::sync) in parallel on a fixed set of
// threads, kept for the life of the store (the sync stage runs a round many times a second).
// Concurrent fdatasyncs share the file system's journal commits, so 1,000 streams' segments
// need far fewer than 1,000 of them. (One syncfs would be cheaper still, but it also waits for
// every other dirty file of the file system: behind an unrelated 3 GB copy, PERSISTED p99 went
// to 2.9 s with it against 0.6 s with parallel fdatasyncs.)
//
// Threading: sync() is called by one thread at a time (the sync stage); it works too.
class SyncPool {
 public:
  explicit SyncPool(std::size_t threads);  // threads - 1 helpers besides the caller
  ~SyncPool();
  SyncPool(const SyncPool&) = delete;
  SyncPool& operator=(const SyncPool&) = delete;

  // One status per file, in order. The caller syncs files too; a round of n files wakes at
  // most n - 1 helpers.
  std::vector<kvs::Status> sync(const std::vector<SegmentFile*>& files);
  // How many times a helper has joined a round, since the start (for tests).
  std::uint64_t helpers_joined();

 private:
  void help();
  void work();  // takes files off the current round until none is left

  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  const std::vector<SegmentFile*>* files_ = nullptr;  // the current round
  std::vector<kvs::Status>* out_ = nullptr;
  std::atomic<std::size_t> next_{0};
  std::size_t busy_helpers_ = 0;  // helpers of the current round not yet done
  std::size_t wanted_ = 0;        // helpers still to join the current round
  std::uint64_t joined_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> helpers_;
};

// pread of `size` bytes at `offset` of a segment file. Errors: internal (missing file, short read).
kvs::Result<std::vector<std::uint8_t>> read_segment_range(const std::filesystem::path& path, std::uint64_t offset,
                                                          std::uint64_t size);

// A segment file opened read-only, with its size at open.
struct OpenedSegment {
  std::shared_ptr<const kvs::FileHandle> file;
  std::filesystem::path path;
  std::uint64_t size = 0;
  // `size` bytes at `offset`, read into the page cache (readahead). Error: internal when the file
  // is shorter than offset + size.
  [[nodiscard]] kvs::Result<kvs::ClusterFile> range(std::uint64_t offset, std::uint64_t size) const;
};

// Errors: internal (missing file).
kvs::Result<OpenedSegment> open_segment(const std::filesystem::path& path);

}  // namespace kvsd::storage
