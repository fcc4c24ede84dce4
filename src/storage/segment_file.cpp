#include "storage/segment_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <climits>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>
#include <thread>
#include <utility>

#include "storage/key_codec.hpp"

namespace kvsd::storage {

namespace {

kvs::Error os_error(const std::string& what, const std::filesystem::path& path, int err) {
  return kvs::Error{kvs::errc::internal, what + " " + path.string() + ": " + std::strerror(err)};
}

}  // namespace

std::filesystem::path stream_blob_dir(const std::filesystem::path& blobs_dir, std::uint64_t stream_id) {
  return blobs_dir / hex16(stream_id);
}

std::filesystem::path segment_path(const std::filesystem::path& blobs_dir, std::uint64_t stream_id,
                                   std::uint64_t segment_id) {
  return stream_blob_dir(blobs_dir, stream_id) / (hex16(segment_id) + ".seg");
}

kvs::Status fsync_dir(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return os_error("open", dir, errno);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return os_error("fsync", dir, err);
  return kvs::Unit{};
}

SegmentFile::SegmentFile(int fd, std::filesystem::path path, std::uint64_t segment_id)
    : fd_(fd), path_(std::move(path)), segment_id_(segment_id) {}

SegmentFile::SegmentFile(SegmentFile&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      path_(std::move(other.path_)),
      segment_id_(other.segment_id_),
      size_(other.size_),
      created_stream_dir_(other.created_stream_dir_),
      entries_durable_(other.entries_durable_) {}

SegmentFile& SegmentFile::operator=(SegmentFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
    segment_id_ = other.segment_id_;
    size_ = other.size_;
    created_stream_dir_ = other.created_stream_dir_;
    entries_durable_ = other.entries_durable_;
  }
  return *this;
}

SegmentFile::~SegmentFile() {
  if (fd_ >= 0) ::close(fd_);
}

kvs::Result<SegmentFile> SegmentFile::create(const std::filesystem::path& blobs_dir, std::uint64_t stream_id,
                                             std::uint64_t segment_id) {
  const auto dir = stream_blob_dir(blobs_dir, stream_id);
  std::error_code ec;
  const bool created_dir = std::filesystem::create_directories(dir, ec);
  if (ec) return kvs::Error{kvs::errc::internal, "create directory " + dir.string() + ": " + ec.message()};
  auto path = segment_path(blobs_dir, stream_id, segment_id);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return os_error("create", path, errno);
  SegmentFile file(fd, std::move(path), segment_id);
  file.created_stream_dir_ = created_dir;
  return file;
}

kvs::Result<std::uint64_t> SegmentFile::append(std::span<const std::uint8_t> bytes) {
  return append(kvs::StagedPart{kvs::SharedBytes{nullptr, bytes}});
}

kvs::Result<std::uint64_t> SegmentFile::append(const kvs::StagedPart& ranges) {
  const std::uint64_t start = size_;
  std::uint64_t at = start;
  std::vector<iovec> iov;
  iov.reserve(std::min<std::size_t>(ranges.size(), IOV_MAX));
  std::size_t next = 0;  // first range not yet in `iov` or written
  while (next < ranges.size() || !iov.empty()) {
    while (next < ranges.size() && iov.size() < IOV_MAX) {
      const auto& r = ranges[next++].bytes;
      if (!r.empty()) iov.push_back(iovec{const_cast<std::uint8_t*>(r.data()), r.size()});
    }
    if (iov.empty()) break;
    const auto n = ::pwritev(fd_, iov.data(), static_cast<int>(iov.size()), static_cast<off_t>(at));
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      (void)::ftruncate(fd_, static_cast<off_t>(start));
      return os_error("write", path_, err);
    }
    at += static_cast<std::uint64_t>(n);
    // Drop what was written; a range written in part keeps its rest.
    auto left = static_cast<std::size_t>(n);
    std::size_t done = 0;
    while (done < iov.size() && left >= iov[done].iov_len) left -= iov[done++].iov_len;
    iov.erase(iov.begin(), iov.begin() + static_cast<std::ptrdiff_t>(done));
    if (left > 0) {
      iov.front().iov_base = static_cast<std::uint8_t*>(iov.front().iov_base) + left;
      iov.front().iov_len -= left;
    }
  }
  size_ = at;
  return start;
}

void SegmentFile::start_writeback(std::uint64_t offset, std::uint64_t size) noexcept {
  (void)::sync_file_range(fd_, static_cast<off64_t>(offset), static_cast<off64_t>(size), SYNC_FILE_RANGE_WRITE);
}

kvs::Status SegmentFile::truncate(std::uint64_t size) {
  if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) return os_error("truncate", path_, errno);
  size_ = size;
  return kvs::Unit{};
}

kvs::Status SegmentFile::sync() {
  if (::fdatasync(fd_) != 0) return os_error("fdatasync", path_, errno);
  if (!entries_durable_) {
    const auto stream_dir = path_.parent_path();
    auto ok = fsync_dir(stream_dir);
    if (ok && created_stream_dir_) ok = fsync_dir(stream_dir.parent_path());
    if (!ok) return ok.error();
    entries_durable_ = true;
  }
  return kvs::Unit{};
}

SyncPool::SyncPool(std::size_t threads) {
  for (std::size_t i = 1; i < threads; ++i) helpers_.emplace_back([this] { help(); });
}

SyncPool::~SyncPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : helpers_) t.join();
}

void SyncPool::work() {
  const auto& files = *files_;
  for (auto i = next_.fetch_add(1); i < files.size(); i = next_.fetch_add(1)) (*out_)[i] = files[i]->sync();
}

void SyncPool::help() {
  std::uint64_t seen = 0;
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return stopping_ || round_ != seen; });
    if (stopping_) return;
    seen = round_;
    lock.unlock();
    work();
    lock.lock();
    if (--busy_helpers_ == 0) done_.notify_one();
  }
}

std::vector<kvs::Status> SyncPool::sync(const std::vector<SegmentFile*>& files) {
  std::vector<kvs::Status> out(files.size(), kvs::Status(kvs::Unit{}));
  if (files.size() <= 1 || helpers_.empty()) {
    for (std::size_t i = 0; i < files.size(); ++i) out[i] = files[i]->sync();
    return out;
  }
  {
    std::lock_guard lock(mutex_);
    files_ = &files;
    out_ = &out;
    next_ = 0;
    busy_helpers_ = helpers_.size();
    ++round_;
  }
  wake_.notify_all();
  work();
  std::unique_lock lock(mutex_);
  done_.wait(lock, [&] { return busy_helpers_ == 0; });
  files_ = nullptr;
  out_ = nullptr;
  return out;
}

kvs::Result<std::vector<std::uint8_t>> read_segment_range(const std::filesystem::path& path, std::uint64_t offset,
                                                          std::uint64_t size) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return os_error("open", path, errno);
  std::vector<std::uint8_t> out(size);
  std::size_t done = 0;
  while (done < size) {
    const auto n = ::pread(fd, out.data() + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n == 0 ? EIO : errno;
      ::close(fd);
      if (n == 0) return kvs::Error{kvs::errc::internal, "short read " + path.string()};
      return os_error("read", path, err);
    }
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
  return out;
}

kvs::Result<OpenedSegment> open_segment(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return os_error("open", path, errno);
  OpenedSegment seg{std::make_shared<const kvs::FileHandle>(fd), path, 0};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return os_error("stat", path, errno);
  seg.size = static_cast<std::uint64_t>(st.st_size);
  return seg;
}

kvs::Result<kvs::ClusterFile> OpenedSegment::range(std::uint64_t offset, std::uint64_t bytes) const {
  if (size < offset + bytes) return kvs::Error{kvs::errc::internal, "short segment " + path.string()};
  // Best effort: a failed readahead only means the send reads from the disk itself.
  (void)::readahead(file->fd(), static_cast<off64_t>(offset), bytes);
  return kvs::ClusterFile{file, offset, bytes};
}

}  // namespace kvsd::storage
