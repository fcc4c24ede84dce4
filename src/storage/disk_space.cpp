#include "storage/disk_space.hpp"

#include <sys/statvfs.h>

#include <cerrno>
#include <system_error>

#include "storage/storage_errors.hpp"

namespace kvsd::storage {

kvs::Result<std::uint64_t> free_bytes(const std::filesystem::path& path) {
  std::filesystem::path at = path.empty() ? std::filesystem::path(".") : path;
  std::error_code ec;
  while (!std::filesystem::exists(at, ec) && at.has_parent_path() && at.parent_path() != at) at = at.parent_path();
  struct statvfs vfs {};
  if (::statvfs(at.c_str(), &vfs) != 0) return file_failure("statvfs", at.string(), errno);
  return static_cast<std::uint64_t>(vfs.f_bavail) * static_cast<std::uint64_t>(vfs.f_frsize);
}

std::uint64_t index_open_bytes(const std::filesystem::path& dir) {
  std::uint64_t total = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const auto name = entry.path().filename().string();
    const bool wal = entry.path().extension() == ".log";
    const bool manifest = name.rfind("MANIFEST-", 0) == 0;
    if (!wal && !manifest) continue;
    std::error_code size_ec;
    const auto size = entry.file_size(size_ec);
    if (!size_ec) total += size;
  }
  return total;
}

}  // namespace kvsd::storage
