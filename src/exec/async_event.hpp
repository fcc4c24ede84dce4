#pragma once
// AsyncEvent: a wake-up signal for coroutines that share one strand.
// notify() wakes every current waiter; wait_until() returns true when woken and false when the
// deadline passed first. Not thread-safe: every call must run on the owning strand.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>

namespace kvsd::exec {

class AsyncEvent {
 public:
  using Clock = std::chrono::steady_clock;

  explicit AsyncEvent(const boost::asio::any_io_executor& ex) : timer_(ex) {}

  void notify() { timer_.cancel(); }

  boost::asio::awaitable<bool> wait_until(Clock::time_point deadline) {
    timer_.expires_at(deadline);
    auto [ec] = co_await timer_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    co_return ec == boost::asio::error::operation_aborted;
  }

  boost::asio::awaitable<void> wait() { co_await wait_until(Clock::time_point::max()); }

 private:
  boost::asio::steady_timer timer_;
};

}  // namespace kvsd::exec
