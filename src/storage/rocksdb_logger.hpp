#pragma once
// RocksDbLogger: RocksDB's info log, sent to spdlog instead of the index's LOG file.
//
// Why not the LOG file: RocksDB 7.8 writes it through a WritableFileWriter, and once one of its
// writes fails (a full disk) the next log line aborts the process (writable_file_writer.h:312,
// "sync_without_flush_called_"). On a full disk even a read-only or degraded index logs (the
// open, DB::Resume, the periodic stats dump), so a LOG file there is a crash waiting to happen.
//
// Levels: RocksDB's warnings and errors become spdlog warnings and errors ("rocksdb: ..."); its
// info and debug lines (hundreds at every open) are only formatted when spdlog logs at trace.
//
// Threading: RocksDB calls it from any of its threads; spdlog is thread-safe.

#include <memory>

namespace rocksdb {
class Logger;
}  // namespace rocksdb

namespace kvsd::storage {

// A logger for DBOptions::info_log, at the level spdlog's current level asks for.
std::shared_ptr<rocksdb::Logger> make_rocksdb_logger();

}  // namespace kvsd::storage
