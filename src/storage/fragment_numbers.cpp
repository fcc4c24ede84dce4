#include "storage/fragment_numbers.hpp"

#include <algorithm>
#include <utility>

namespace kvsd::storage {

namespace {
constexpr std::uint64_t kClockMultiplier = 16;  // room for 16 numbers per microsecond
}

FragmentNumberGenerator::FragmentNumberGenerator(std::uint64_t floor, std::function<std::uint64_t()> now_us)
    : last_(floor), now_us_(std::move(now_us)) {}

std::uint64_t FragmentNumberGenerator::next() noexcept {
  const std::uint64_t clock = now_us_() * kClockMultiplier;
  std::uint64_t last = last_.load(std::memory_order_relaxed);
  std::uint64_t next = 0;
  do {
    next = std::max(last + 1, clock);
  } while (!last_.compare_exchange_weak(last, next, std::memory_order_acq_rel, std::memory_order_relaxed));
  return next;
}

}  // namespace kvsd::storage
