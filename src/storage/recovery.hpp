#pragma once
// Recovery: makes the blob segment files and the index agree after a crash, before the fragment
// store accepts writes. Rules (docs/storage.md, "Recovery"):
//  - a segment file longer than its indexed size has a torn tail (bytes written but never
//    indexed): it is truncated to the end of the last indexed fragment;
//  - a segment file with no segments-family record is deleted (written by a batch whose index
//    write never happened, or left by an interrupted retention/delete);
//  - index entries whose bytes are missing (file gone or shorter than indexed) are dropped.
//
// On a read-only (degraded) Database the file fixes are made (they only shrink or delete files)
// but the index fixes are not: they are counted in index_fixes_deferred, and the index entries
// of missing bytes stay until recovery runs again on a writable index.
//
// Threading: blocking, under a Database::Pin; call before any writer uses the data dir.
// Errors: internal.

#include <cstdint>
#include <filesystem>

#include "kvs/stream_store.hpp"
#include "storage/database.hpp"

namespace kvsd::storage {

struct RecoveryReport {
  std::uint64_t segments_checked = 0;
  std::uint64_t torn_tails_truncated = 0;
  std::uint64_t torn_bytes_truncated = 0;
  std::uint64_t unindexed_segments_deleted = 0;  // id at or above the index's next_segment_id
  std::uint64_t orphan_segments_deleted = 0;     // older ids with no record
  std::uint64_t missing_segments = 0;            // indexed but missing or shorter than indexed
  std::uint64_t fragments_dropped = 0;           // index entries whose bytes were missing
  std::uint64_t index_fixes_deferred = 0;        // index updates not written: the index is read-only

  [[nodiscard]] bool clean() const noexcept {
    return torn_tails_truncated == 0 && unindexed_segments_deleted == 0 && orphan_segments_deleted == 0 &&
           missing_segments == 0 && fragments_dropped == 0 && index_fixes_deferred == 0;
  }
};

kvs::Result<RecoveryReport> recover(const Database& db, const std::filesystem::path& blobs_dir);

}  // namespace kvsd::storage
