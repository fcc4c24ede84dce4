#pragma once
// StorageHealth: the periodic check of degraded mode (docs/storage.md, "Disk full"). check():
//  - while writes are admitted: measures free space; less than the reserve switches to
//    degraded mode (as the next write would);
//  - while they are refused: once the free space reaches Database::resume_bytes(), makes the
//    index read-write again (Database::restore_read_write), runs the recovery deferred at open
//    (RocksDbFragmentStore::complete_recovery) and admits writes again (Database::allow_writes).
//    Writes stay refused throughout, so no fragment or segment file appears meanwhile.
//
// Threading: blocking (call through exec::offload, e.g. from a timer); calls are serialised.

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "storage/database.hpp"
#include "storage/recovery.hpp"
#include "storage/rocksdb_fragment_store.hpp"

namespace kvsd::storage {

struct HealthReport {
  bool writable = true;                    // writes are admitted after the check
  bool resumed = false;                    // ... because this check ended degraded mode
  std::optional<WriteRefusal> refusal;     // why writes are refused (when !writable)
  std::uint64_t free_bytes = 0;            // free now (0 when statvfs failed)
  std::uint64_t needed_bytes = 0;          // what writes need to resume (when !writable)
  std::optional<RecoveryReport> recovery;  // the deferred recovery this check ran
  std::string error;                       // why an attempt to resume failed (for the log)
};

class StorageHealth {
 public:
  // The store must outlive this.
  StorageHealth(std::shared_ptr<Database> db, RocksDbFragmentStore& fragments);

  HealthReport check();

 private:
  std::shared_ptr<Database> db_;
  RocksDbFragmentStore& fragments_;
  std::mutex mutex_;
};

}  // namespace kvsd::storage
