#include "storage/storage_health.hpp"

#include <utility>

namespace kvsd::storage {

StorageHealth::StorageHealth(std::shared_ptr<Database> db, RocksDbFragmentStore& fragments)
    : db_(std::move(db)), fragments_(fragments) {}

HealthReport StorageHealth::check() {
  std::lock_guard lock(mutex_);
  HealthReport report;
  const auto free = db_->free_bytes();
  report.free_bytes = free ? free.value() : 0;
  if (!db_->refusing_writes()) (void)db_->guard_write();  // too little space: degraded from now on
  if (!db_->refusing_writes()) return report;

  report.writable = false;
  report.refusal = db_->refusal();
  report.needed_bytes = db_->resume_bytes();
  if (!free || free.value() < report.needed_bytes) return report;

  if (auto restored = db_->restore_read_write(); !restored) {
    report.error = restored.error().message;
    return report;
  }
  auto recovered = fragments_.complete_recovery();
  if (!recovered) {
    report.error = recovered.error().message;
    return report;
  }
  report.recovery = std::move(recovered.value());
  db_->allow_writes();
  report.writable = true;
  report.resumed = true;
  report.refusal.reset();
  return report;
}

}  // namespace kvsd::storage
