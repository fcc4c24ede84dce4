#include "storage/segment_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <climits>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <system_error>
#include <thread>
#include <utility>

#include "obs/thread_name.hpp"
#include "storage/fault_points.hpp"
#include "storage/key_codec.hpp"
#include "storage/storage_errors.hpp"

namespace kvsd::storage {

namespace {

// Client-safe: the path is logged, not put in the message.
kvs::Error os_error(const std::string& what, const std::filesystem::path& path, int err) {
  return file_failure(what, path.string(), err);
}

kvs::Error short_error(const std::string& what, const std::filesystem::path& path) {
  return storage_failure("storage: " + what + " of a segment file", "short segment: it ends before the indexed bytes",
                         "short segment " + path.string());
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
  const Fault fault = injected(FaultPoint::dir_sync);
  const int rc = fault.kind == Fault::error ? -1 : ::fsync(fd);
  const int err = fault.kind == Fault::error ? fault.errno_value : errno;
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
      entries_durable_(other.entries_durable_),
      tail_(std::move(other.tail_)),
      wrote_direct_(other.wrote_direct_) {}

SegmentFile& SegmentFile::operator=(SegmentFile&& other) noexcept {
  if (this != &other) {
    close_fd();
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
    segment_id_ = other.segment_id_;
    size_ = other.size_;
    created_stream_dir_ = other.created_stream_dir_;
    entries_durable_ = other.entries_durable_;
    tail_ = std::move(other.tail_);
    wrote_direct_ = other.wrote_direct_;
  }
  return *this;
}

SegmentFile::~SegmentFile() { close_fd(); }

void SegmentFile::close_fd() noexcept {
  if (fd_ < 0) return;
  // Direct mode: drop the padding of the last block (best effort; recovery drops it otherwise).
  if (tail_ && size_ % kBlock != 0) (void)::ftruncate(fd_, static_cast<off_t>(size_));
  ::close(std::exchange(fd_, -1));
}

void SegmentFile::FreeAligned::operator()(std::uint8_t* p) const noexcept { std::free(p); }

kvs::Result<SegmentFile> SegmentFile::create(const std::filesystem::path& blobs_dir, std::uint64_t stream_id,
                                             std::uint64_t segment_id, bool direct) {
  const auto dir = stream_blob_dir(blobs_dir, stream_id);
  std::error_code ec;
  const bool created_dir = std::filesystem::create_directories(dir, ec);
  if (ec) return os_error("create directory", dir, ec.value());
  auto path = segment_path(blobs_dir, stream_id, segment_id);
  // O_RDWR: in direct mode truncate() reads the new partial last block back.
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return os_error("create", path, errno);
  SegmentFile file(fd, std::move(path), segment_id);
  file.created_stream_dir_ = created_dir;
  // O_DIRECT is set on the open file, so a file system without it (EINVAL) leaves it buffered.
  if (direct) {
    const int flags = ::fcntl(fd, F_GETFL);
    direct = flags >= 0 && ::fcntl(fd, F_SETFL, flags | O_DIRECT) == 0;
  }
  if (direct) {
    file.tail_ = AlignedBytes(static_cast<std::uint8_t*>(std::aligned_alloc(kBlock, kBlock)));
    if (!file.tail_) return kvs::Error{kvs::errc::internal, "out of memory for a segment's block"};
  }
  return file;
}

kvs::Result<std::uint64_t> SegmentFile::append(std::span<const std::uint8_t> bytes) {
  return append(kvs::StagedPart{kvs::SharedBytes{nullptr, bytes}});
}

kvs::Result<std::uint64_t> SegmentFile::append(const kvs::StagedPart& ranges) {
  if (kvs::part_size(ranges) == 0) return size_;
  return tail_ ? append_direct(ranges) : append_buffered(ranges);
}

namespace {

// The appending thread's block-aligned buffer for direct writes (the committer's, in the store).
constexpr std::size_t kBounceBytes = std::size_t{1} << 20;

std::uint8_t* bounce_buffer() {
  struct Buffer {
    std::uint8_t* p = static_cast<std::uint8_t*>(std::aligned_alloc(SegmentFile::kBlock, kBounceBytes));
    ~Buffer() { std::free(p); }
  };
  thread_local Buffer buffer;
  return buffer.p;
}

std::uint64_t align_down(std::uint64_t v) { return v / SegmentFile::kBlock * SegmentFile::kBlock; }

}  // namespace

void SegmentFile::leave_direct_mode() noexcept {
  const int flags = ::fcntl(fd_, F_GETFL);
  if (flags >= 0) (void)::fcntl(fd_, F_SETFL, flags & ~O_DIRECT);
  tail_.reset();
}

int SegmentFile::write_blocks(const std::uint8_t* data, std::size_t size, std::uint64_t at) {
  std::size_t done = 0;
  while (done < size) {
    const Fault fault = injected(FaultPoint::segment_write);
    if (fault.kind == Fault::error) return fault.errno_value;
    // A short write is still whole blocks (direct I/O writes nothing else).
    const std::size_t ask =
        fault.kind == Fault::short_io && size - done > 2 * kBlock ? (size - done) / 2 / kBlock * kBlock : size - done;
    const auto n = ::pwrite(fd_, data + done, ask, static_cast<off_t>(at + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EINVAL && !wrote_direct_ && tail_) {
      leave_direct_mode();  // the file system takes O_DIRECT at open but not these writes
      continue;
    }
    if (n < 0) return errno;
    if (n == 0) return EIO;
    if (tail_) wrote_direct_ = true;
    done += static_cast<std::size_t>(n);
  }
  return 0;
}

kvs::Result<std::uint64_t> SegmentFile::append_direct(const kvs::StagedPart& ranges) {
  std::uint8_t* const buf = bounce_buffer();
  if (buf == nullptr) return kvs::Error{kvs::errc::internal, "out of memory for direct writes"};
  const std::uint64_t start = size_;
  std::uint64_t base = align_down(size_);  // file offset of buf[0]
  std::size_t fill = static_cast<std::size_t>(size_ - base);
  std::memcpy(buf, tail_.get(), fill);
  auto fail = [&](int err) -> kvs::Error {
    (void)::ftruncate(fd_, static_cast<off_t>(start));  // best effort; the block copy is unchanged
    return os_error("write", path_, err);
  };
  for (const auto& r : ranges) {
    auto bytes = r.bytes;
    while (!bytes.empty()) {
      const auto n = std::min(bytes.size(), kBounceBytes - fill);
      std::memcpy(buf + fill, bytes.data(), n);
      fill += n;
      bytes = bytes.subspan(n);
      if (fill == kBounceBytes) {
        if (const int err = write_blocks(buf, fill, base)) return fail(err);
        base += fill;
        fill = 0;
      }
    }
  }
  // The rest, the partial last block padded with zeros.
  const std::size_t whole = static_cast<std::size_t>(align_down(fill));
  const std::size_t padded = fill > whole ? whole + kBlock : whole;
  std::memset(buf + fill, 0, padded - fill);
  if (padded > 0) {
    if (const int err = write_blocks(buf, padded, base)) return fail(err);
  }
  size_ = base + fill;
  if (!tail_) {
    // Fell back to buffered writes in this append: the file ends at size_ from now on.
    (void)::ftruncate(fd_, static_cast<off_t>(size_));
    return start;
  }
  std::memcpy(tail_.get(), buf + whole, fill - whole);
  return start;
}

kvs::Result<std::uint64_t> SegmentFile::append_buffered(const kvs::StagedPart& ranges) {
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
    const Fault fault = injected(FaultPoint::segment_write);
    ssize_t n = -1;
    if (fault.kind == Fault::error) {
      errno = fault.errno_value;
    } else if (fault.kind == Fault::short_io && (iov.size() > 1 || iov.front().iov_len > 1)) {
      // Half of the first range only: the loop must write the rest.
      n = ::pwrite(fd_, iov.front().iov_base, std::max<std::size_t>(1, iov.front().iov_len / 2),
                   static_cast<off_t>(at));
    } else {
      n = ::pwritev(fd_, iov.data(), static_cast<int>(iov.size()), static_cast<off_t>(at));
    }
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
  if (tail_) return;
  (void)::sync_file_range(fd_, static_cast<off64_t>(offset), static_cast<off64_t>(size), SYNC_FILE_RANGE_WRITE);
}

kvs::Status SegmentFile::truncate(std::uint64_t size) {
  if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) return os_error("truncate", path_, errno);
  size_ = size;
  if (tail_) {
    // The new partial last block, read back for the next append (a direct read: whole blocks;
    // at the end of the file it returns the bytes there are).
    const auto base = align_down(size);
    const auto want = static_cast<std::size_t>(size - base);
    if (want > 0) {
      ssize_t n = 0;
      do {
        n = ::pread(fd_, tail_.get(), kBlock, static_cast<off_t>(base));
      } while (n < 0 && errno == EINTR);
      if (n < 0) return os_error("read", path_, errno);
      if (static_cast<std::size_t>(n) < want) return short_error("read", path_);
    }
  }
  return kvs::Unit{};
}

kvs::Status SegmentFile::sync() {
  if (const Fault fault = injected(FaultPoint::segment_sync); fault.kind == Fault::error)
    return os_error("fdatasync", path_, fault.errno_value);
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
  for (std::size_t i = 1; i < threads; ++i) {
    helpers_.emplace_back([this, i] {
      obs::name_this_thread("kvsd-fsync-" + std::to_string(i));
      help();
    });
  }
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
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return stopping_ || wanted_ > 0; });
    if (stopping_) return;
    --wanted_;
    ++joined_;
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
  // The caller takes one file; a helper is woken for each other one, up to all of them. (Waking
  // every helper for a round of two files cost a context switch each, for nothing.)
  const std::size_t helpers = std::min(files.size() - 1, helpers_.size());
  {
    std::lock_guard lock(mutex_);
    files_ = &files;
    out_ = &out;
    next_ = 0;
    busy_helpers_ = helpers;
    wanted_ = helpers;
  }
  if (helpers == helpers_.size()) {
    wake_.notify_all();
  } else {
    for (std::size_t i = 0; i < helpers; ++i) wake_.notify_one();
  }
  work();
  std::unique_lock lock(mutex_);
  done_.wait(lock, [&] { return busy_helpers_ == 0; });
  files_ = nullptr;
  out_ = nullptr;
  return out;
}

std::uint64_t SyncPool::helpers_joined() {
  std::lock_guard lock(mutex_);
  return joined_;
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
      if (n == 0) return short_error("read", path);
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
  if (size < offset + bytes) return short_error("range", path);
  // Best effort: a failed readahead only means the send reads from the disk itself.
  (void)::readahead(file->fd(), static_cast<off64_t>(offset), bytes);
  return kvs::ClusterFile{file, offset, bytes};
}

}  // namespace kvsd::storage
