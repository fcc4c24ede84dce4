#pragma once
// Run-wide counters and ACK latencies, shared by every producer and the progress printer.
// Thread-safe: counters are atomics, latency samples sit behind a mutex.

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace kvsput {

struct LatencySummary {
  std::size_t count = 0;
  double p50_ms = 0, p99_ms = 0, max_ms = 0;
};

class Stats {
 public:
  std::atomic<std::uint64_t> fragments_sent{0};
  std::atomic<std::uint64_t> buffering{0};
  std::atomic<std::uint64_t> received{0};
  std::atomic<std::uint64_t> persisted{0};
  std::atomic<std::uint64_t> errors{0};
  std::atomic<std::uint64_t> bytes_sent{0};

  void add_received_latency(double ms);
  void add_persisted_latency(double ms);
  // From the write of the bytes that end the fragment for the server (its END_OF_FRAGMENT tag,
  // or the next cluster's start) to its PERSISTED. A real-time producer writes them with the
  // next key frame, a frame interval after the fragment's last byte.
  void add_persisted_after_end_latency(double ms);
  [[nodiscard]] LatencySummary received_latency() const;
  [[nodiscard]] LatencySummary persisted_latency() const;
  [[nodiscard]] LatencySummary persisted_after_end_latency() const;
  // p50 of the RECEIVED latencies seen since the previous call (for the progress line).
  double take_recent_received_p50();

 private:
  static LatencySummary summarize(std::vector<double> v);
  mutable std::mutex mutex_;
  std::vector<double> received_ms_, persisted_ms_, after_end_ms_, recent_ms_;
};

}  // namespace kvsput
