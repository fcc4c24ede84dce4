#pragma once
// NamedThreadPool: an asio::thread_pool whose threads carry names ("<prefix>-1".."<prefix>-n",
// obs::name_this_thread), so that top -H and perf tell the blocking pool from the main thread
// (asio's own pool threads would carry the process's name). The threads are this class's: each
// names itself and attaches to a pool made without threads of its own.
// Destruction stops the pool (work not yet started is dropped, as ~thread_pool does) and joins
// the threads.

#include <boost/asio/thread_pool.hpp>
#include <string>
#include <thread>
#include <vector>

#include "obs/thread_name.hpp"

namespace kvsd::exec {

class NamedThreadPool {
 public:
  NamedThreadPool(std::size_t threads, const std::string& prefix) : pool_(0) {
    threads_.reserve(threads);
    for (std::size_t i = 1; i <= threads; ++i) {
      threads_.emplace_back([this, name = prefix + "-" + std::to_string(i)] {
        obs::name_this_thread(name);
        pool_.attach();  // runs the pool's work until stop()
      });
    }
  }
  ~NamedThreadPool() {
    pool_.stop();
    for (auto& t : threads_) t.join();
  }
  NamedThreadPool(const NamedThreadPool&) = delete;
  NamedThreadPool& operator=(const NamedThreadPool&) = delete;

  boost::asio::thread_pool& pool() noexcept { return pool_; }

 private:
  boost::asio::thread_pool pool_;
  std::vector<std::thread> threads_;  // last: started after the pool exists
};

}  // namespace kvsd::exec
