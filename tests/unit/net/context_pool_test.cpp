// ContextPool: connections spread round-robin over one io_context per I/O thread; each context runs
// on a thread of its own (named kvsd-io-<i> but for the caller's), stays up while idle, and every
// one stops on stop().

#include "net/context_pool.hpp"

#include <gtest/gtest.h>
#include <pthread.h>

#include <algorithm>
#include <array>
#include <boost/asio/post.hpp>
#include <chrono>
#include <future>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace kvsd::net {
namespace {

TEST(ContextPool, NextGoesRoundRobinOverEveryContext) {
  ContextPool pool(3);
  ASSERT_EQ(pool.size(), 3u);
  std::vector<boost::asio::io_context*> seen;
  for (int i = 0; i < 6; ++i) seen.push_back(&pool.next());
  EXPECT_EQ(std::set<boost::asio::io_context*>(seen.begin(), seen.end()).size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(seen[i], seen[i + 3]) << "position " << i;
  EXPECT_EQ(ContextPool(0).size(), 1u);  // at least one thread
}

TEST(ContextPool, EachContextRunsOnItsOwnThreadUntilStopped) {
  ContextPool pool(3);
  std::thread runner([&] { pool.run(); });
  const auto runner_id = runner.get_id();
  // Posted after run() began, while every context was idle: they must still be running.
  std::mutex m;
  std::vector<std::thread::id> ids;
  std::set<std::string> names;  // of the threads other than the one that called run()
  std::promise<void> all;
  for (std::size_t i = 0; i < pool.size(); ++i) {
    boost::asio::post(pool.next(), [&] {
      std::lock_guard lock(m);
      ids.push_back(std::this_thread::get_id());
      if (std::this_thread::get_id() != runner_id) {
        std::array<char, 32> name{};
        (void)::pthread_getname_np(::pthread_self(), name.data(), name.size());
        names.insert(name.data());
      }
      if (ids.size() == 3) all.set_value();
    });
  }
  const bool ran = all.get_future().wait_for(std::chrono::seconds(20)) == std::future_status::ready;
  pool.stop();
  runner.join();  // run() returns once every context has stopped
  ASSERT_TRUE(ran) << "a context did not run its work";
  EXPECT_EQ(std::set<std::thread::id>(ids.begin(), ids.end()).size(), 3u);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), runner_id), 1) << "context 0 runs on the thread that called run()";
  EXPECT_EQ(names, (std::set<std::string>{"kvsd-io-1", "kvsd-io-2"}));
}

}  // namespace
}  // namespace kvsd::net
