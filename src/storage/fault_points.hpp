#pragma once
// Fault points: the durable-write steps of the store where a test can make the system call fail,
// so that the failure paths run (Beast's fail_count, RocksDB's fault-injection env, in small).
// Production never arms one: `injected()` is then one relaxed atomic load that yields `none`.
//
// Contract for the code at a point: call `injected(point)` just before the real call; on
// `Fault::error` behave exactly as if the call had failed with `errno_value` (e.g. EIO, ENOSPC);
// on `Fault::short_io` do the call with at most half of the bytes (a short write the caller must
// complete); on `Fault::none` do the call.
//
// Threading: arming and disarming are for tests, between operations; the points are read from
// the store's threads. One injector per process (tests of the store run one at a time).

#include <atomic>
#include <cerrno>

namespace kvsd::storage {

enum class FaultPoint {
  segment_write,  // pwrite/pwritev of cluster bytes into a segment file
  segment_sync,   // fdatasync of a segment file
  dir_sync,       // fsync of a directory of segment files (new entries, removals)
  index_write,    // the synced RocksDB WriteBatch of fragments and segments
};

struct Fault {
  enum Kind { none, error, short_io } kind = none;
  int errno_value = 0;
};

// Decides, per call at a point, whether it fails. Implemented by tests.
class FaultInjector {
 public:
  virtual ~FaultInjector() = default;
  virtual Fault at(FaultPoint point) = 0;
};

namespace detail {
inline std::atomic<FaultInjector*> g_fault_injector{nullptr};
}

// Arms `injector` for every point (nullptr: disarm). The injector must outlive its arming.
inline void set_fault_injector(FaultInjector* injector) noexcept {
  detail::g_fault_injector.store(injector, std::memory_order_release);
}

[[nodiscard]] inline Fault injected(FaultPoint point) noexcept {
  FaultInjector* f = detail::g_fault_injector.load(std::memory_order_acquire);
  return f == nullptr ? Fault{} : f->at(point);
}

}  // namespace kvsd::storage
