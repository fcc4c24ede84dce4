#pragma once
// Disk space facts the storage layer decides on (docs/storage.md, "Disk full").
//
// Threading: plain functions, safe from any thread; they only read file system metadata.

#include <cstdint>
#include <filesystem>

#include "kvs/stream_store.hpp"

namespace kvsd::storage {

// Bytes an unprivileged writer may still allocate on the file system holding `path` (statvfs:
// f_bavail * f_frsize). A `path` that does not exist yet is measured at its nearest existing
// ancestor. Errors: internal (the message names no path; the path is logged).
kvs::Result<std::uint64_t> free_bytes(const std::filesystem::path& path);

// What a read-write open of the RocksDB index in `dir` may write before it accepts anything:
// its write-ahead logs (*.log; replayed and flushed into table files at open) and its MANIFEST
// (rewritten at open). 0 for a missing or empty dir.
std::uint64_t index_open_bytes(const std::filesystem::path& dir);

}  // namespace kvsd::storage
