#pragma once
// BodyPace: the minimum-rate rule for request bodies, shared by the HTTP/1.1 and HTTP/2 sessions.
//
// Time runs on a waiting clock that advances only while a read waits for the client, so a
// handler that reads slowly (backpressure) never makes its sender look slow. On that clock each
// window of `window` must bring at least min_window_bytes() (min_rate bytes per second, and at
// least one byte): a body that trickles a byte every few seconds fails as surely as one that
// stalls. Pure logic; the caller supplies the time.

#include <chrono>
#include <cstdint>

namespace kvsd::http {

class BodyPace {
 public:
  using Clock = std::chrono::steady_clock;

  BodyPace(std::chrono::milliseconds window, std::uint64_t min_rate) : window_(window), min_rate_(min_rate) {}

  // Bytes each window must bring.
  [[nodiscard]] std::uint64_t min_window_bytes() const {
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(window_).count();
    const auto whole = static_cast<std::uint64_t>(seconds > 0 ? seconds : 1);
    return min_rate_ * whole > 0 ? min_rate_ * whole : 1;
  }

  void wait_begins(Clock::time_point now) {
    waiting_ = true;
    wait_started_ = now;
  }

  // A wait that began with wait_begins() ended at `now` and brought `n` bytes. False: the body is
  // too slow (a window on the waiting clock ended short of min_window_bytes()).
  [[nodiscard]] bool wait_ends(Clock::time_point now, std::uint64_t n) {
    waiting_ = false;
    waited_ += now - wait_started_;
    if (!roll(waited_)) return false;
    window_bytes_ += n;
    return true;
  }

  // While waiting: false when the body is too slow by `now`; otherwise lowers `next` to the time
  // the current window ends (when to look again).
  [[nodiscard]] bool check_waiting(Clock::time_point now, Clock::time_point& next) {
    if (!waiting_) return true;
    if (!roll(waited_ + (now - wait_started_))) return false;
    const auto window_end = wait_started_ + (window_start_ + window_ - waited_);
    if (window_end < next) next = window_end;
    return true;
  }

  [[nodiscard]] bool waiting() const noexcept { return waiting_; }

 private:
  // Closes every window that ended before `clock` on the waiting clock; false when one fell
  // short. Bytes that arrive exactly at a window's end still count for it.
  bool roll(Clock::duration clock) {
    while (clock > window_start_ + window_) {
      if (window_bytes_ < min_window_bytes()) return false;
      window_start_ += window_;
      window_bytes_ = 0;
    }
    return true;
  }

  Clock::duration window_;
  std::uint64_t min_rate_;
  bool waiting_ = false;
  Clock::time_point wait_started_{};
  Clock::duration waited_{};        // the waiting clock: completed waits
  Clock::duration window_start_{};  // the waiting clock at the current window's start
  std::uint64_t window_bytes_ = 0;
};

}  // namespace kvsd::http
