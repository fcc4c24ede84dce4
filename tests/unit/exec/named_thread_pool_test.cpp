#include "exec/named_thread_pool.hpp"

#include <gtest/gtest.h>
#include <pthread.h>

#include <boost/asio/post.hpp>
#include <condition_variable>
#include <mutex>
#include <set>
#include <string>

namespace kvsd::exec {
namespace {

std::string this_thread_name() {
  char name[16] = {};
  ::pthread_getname_np(::pthread_self(), name, sizeof name);
  return name;
}

TEST(NamedThreadPool, WorkRunsOnTheNamedThreadsAndEveryThreadJoinsTheWork) {
  std::mutex mutex;
  std::condition_variable cv;
  std::set<std::string> names;
  int arrived = 0;
  {
    NamedThreadPool pool(3, "kvsd-test");
    // Three tasks that each wait for all three to be running: so each runs on its own thread.
    for (int i = 0; i < 3; ++i) {
      boost::asio::post(pool.pool(), [&] {
        std::unique_lock lock(mutex);
        names.insert(this_thread_name());
        ++arrived;
        cv.notify_all();
        cv.wait(lock, [&] { return arrived == 3; });
      });
    }
    std::unique_lock lock(mutex);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return arrived == 3; }));
  }  // destruction stops the pool and joins its threads
  EXPECT_EQ(names, (std::set<std::string>{"kvsd-test-1", "kvsd-test-2", "kvsd-test-3"}));
  EXPECT_NE(this_thread_name(), "kvsd-test-1");
}

}  // namespace
}  // namespace kvsd::exec
