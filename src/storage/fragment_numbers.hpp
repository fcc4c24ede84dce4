#pragma once
// FragmentNumberGenerator: issues strictly increasing u64 fragment numbers, unique across
// restarts: next = max(last + 1, clock_us * 16). The owner persists highest_issued() with every
// commit batch and constructs the next generator above the persisted value, so numbers keep
// increasing even when the clock steps back.
//
// Threading: next() is lock-free and safe from any thread; it never blocks.

#include <atomic>
#include <cstdint>
#include <functional>

namespace kvsd::storage {

class FragmentNumberGenerator {
 public:
  // `floor`: every issued number is greater than it. `now_us`: epoch microseconds.
  FragmentNumberGenerator(std::uint64_t floor, std::function<std::uint64_t()> now_us);

  std::uint64_t next() noexcept;
  [[nodiscard]] std::uint64_t highest_issued() const noexcept { return last_.load(std::memory_order_acquire); }

 private:
  std::atomic<std::uint64_t> last_;
  std::function<std::uint64_t()> now_us_;
};

}  // namespace kvsd::storage
