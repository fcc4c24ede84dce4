#include "net/context_pool.hpp"

#include <algorithm>
#include <string>
#include <thread>

#include "obs/thread_name.hpp"

namespace kvsd::net {

ContextPool::ContextPool(std::size_t threads) {
  threads = std::max<std::size_t>(threads, 1);
  contexts_.reserve(threads);
  guards_.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i) {
    contexts_.push_back(std::make_unique<boost::asio::io_context>(1));
    guards_.push_back(boost::asio::make_work_guard(*contexts_.back()));
  }
}

boost::asio::io_context& ContextPool::next() noexcept {
  return *contexts_[next_.fetch_add(1, std::memory_order_relaxed) % contexts_.size()];
}

void ContextPool::run() {
  std::vector<std::jthread> threads;
  threads.reserve(contexts_.size() - 1);
  for (std::size_t i = 1; i < contexts_.size(); ++i) {
    threads.emplace_back([i, c = contexts_[i].get()] {
      obs::name_this_thread("kvsd-io-" + std::to_string(i));
      c->run();
    });
  }
  contexts_.front()->run();
  for (auto& t : threads) t.join();
}

void ContextPool::stop() {
  for (auto& c : contexts_) c->stop();
}

}  // namespace kvsd::net
