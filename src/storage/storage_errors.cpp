#include "storage/storage_errors.hpp"

#include <rocksdb/status.h>
#include <spdlog/spdlog.h>

#include <cstring>

namespace kvsd::storage {

std::string status_summary(const rocksdb::Status& s) {
  if (s.ok()) return "ok";
  if (s.IsNoSpace()) return "no space left on device";
  if (s.IsIOError()) return "I/O error";
  if (s.IsCorruption()) return "corruption";
  if (s.IsNotFound()) return "not found";
  if (s.IsNotSupported()) return "not supported";
  if (s.IsBusy() || s.IsTryAgain() || s.IsTimedOut()) return "busy";
  if (s.IsShutdownInProgress()) return "shutting down";
  if (s.IsIncomplete()) return "incomplete";
  return "RocksDB status code " + std::to_string(static_cast<int>(s.code()));
}

kvs::Error storage_failure(const std::string& what, const std::string& why, const std::string& detail) {
  spdlog::error("{}: {}", what, detail);
  return kvs::Error{kvs::errc::internal, what + " failed (" + why + ")"};
}

kvs::Error file_failure(const std::string& what, const std::string& path, int err) {
  const std::string why = std::strerror(err);
  spdlog::error("storage: {} {}: {}", what, path, why);
  return kvs::Error{kvs::errc::internal, "storage: " + what + " of a storage file failed: " + why};
}

}  // namespace kvsd::storage
