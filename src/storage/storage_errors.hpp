#pragma once
// Client-safe storage errors. Messages of kvs::Error reach clients (the AWS error body), so they
// never carry a server file path or a raw RocksDB status (whose I/O errors name files): the
// detail is logged here, once, and the error says what failed and why in general words.
//
// Threading: plain functions, safe from any thread.

#include <string>

#include "kvs/error.hpp"

namespace rocksdb {
class Status;
}  // namespace rocksdb

namespace kvsd::storage {

// RocksDB's status in general words, without the file names its message may hold
// (e.g. "no space left on device", "I/O error", "corruption").
std::string status_summary(const rocksdb::Status& s);

// Logs "<what>: <detail>" at error level and returns internal "<what> failed (<why>)".
// `detail` may hold paths; `what` and `why` must not.
kvs::Error storage_failure(const std::string& what, const std::string& why, const std::string& detail);

// A failed system call on a storage file: logs the path and errno, returns internal
// "<what> of a storage file failed: <strerror>".
kvs::Error file_failure(const std::string& what, const std::string& path, int err);

}  // namespace kvsd::storage
