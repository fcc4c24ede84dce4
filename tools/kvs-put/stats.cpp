#include "stats.hpp"

#include <algorithm>
#include <cmath>

namespace kvsput {

void Stats::add_received_latency(double ms) {
  std::lock_guard lock(mutex_);
  received_ms_.push_back(ms);
  recent_ms_.push_back(ms);
}

void Stats::add_persisted_latency(double ms) {
  std::lock_guard lock(mutex_);
  persisted_ms_.push_back(ms);
}

void Stats::add_persisted_after_end_latency(double ms) {
  std::lock_guard lock(mutex_);
  after_end_ms_.push_back(ms);
}

LatencySummary Stats::summarize(std::vector<double> v) {
  LatencySummary s;
  s.count = v.size();
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  auto at = [&](double q) {
    const auto i = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size()))) - 1;
    return v[std::min(i, v.size() - 1)];
  };
  s.p50_ms = at(0.5);
  s.p99_ms = at(0.99);
  s.max_ms = v.back();
  return s;
}

LatencySummary Stats::received_latency() const {
  std::lock_guard lock(mutex_);
  return summarize(received_ms_);
}

LatencySummary Stats::persisted_latency() const {
  std::lock_guard lock(mutex_);
  return summarize(persisted_ms_);
}

LatencySummary Stats::persisted_after_end_latency() const {
  std::lock_guard lock(mutex_);
  return summarize(after_end_ms_);
}

double Stats::take_recent_received_p50() {
  std::vector<double> v;
  {
    std::lock_guard lock(mutex_);
    v.swap(recent_ms_);
  }
  return summarize(std::move(v)).p50_ms;
}

}  // namespace kvsput
