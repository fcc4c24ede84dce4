#pragma once
// ContextPool: the I/O threads, each running an io_context of its own. A connection is placed on
// one of them (round-robin) and stays there, so its completions are handled by the thread that
// saw them in epoll: no handing over to another thread (a futex wake and a context switch per
// completion with one io_context shared by every thread, as kvsd had before).
//
// Threading: next() from any thread; run() once, from the thread that becomes I/O thread 0;
// stop() from any thread (then run() returns once every thread has left its context).

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <memory>
#include <vector>

namespace kvsd::net {

class ContextPool {
 public:
  explicit ContextPool(std::size_t threads);  // at least one
  ContextPool(const ContextPool&) = delete;
  ContextPool& operator=(const ContextPool&) = delete;

  // Context 0: listeners, signals and the server's timers run here (with connections too).
  [[nodiscard]] boost::asio::io_context& main() noexcept { return *contexts_.front(); }
  // The context for a new connection (round-robin).
  [[nodiscard]] boost::asio::io_context& next() noexcept;
  [[nodiscard]] std::size_t size() const noexcept { return contexts_.size(); }

  // Runs context 0 on this thread and each other one on a thread of its own (named kvsd-io-<i>);
  // returns after stop().
  void run();
  void stop();

 private:
  using Guard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;
  std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
  std::vector<Guard> guards_;  // keep the contexts running while they have nothing to do
  std::atomic<std::size_t> next_{0};
};

}  // namespace kvsd::net
