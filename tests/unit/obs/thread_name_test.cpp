// name_this_thread: the calling thread gets the name, cut to the 15 bytes Linux keeps.

#include "obs/thread_name.hpp"

#include <gtest/gtest.h>
#include <pthread.h>

#include <array>
#include <string>
#include <thread>

namespace kvsd::obs {
namespace {

std::string name_of_thread_named(const std::string& name) {
  std::string got;
  std::thread t([&] {
    name_this_thread(name);
    std::array<char, 64> buf{};
    if (::pthread_getname_np(::pthread_self(), buf.data(), buf.size()) == 0) got = buf.data();
  });
  t.join();
  return got;
}

TEST(ThreadName, NamesTheCallingThread) { EXPECT_EQ(name_of_thread_named("kvsd-commit"), "kvsd-commit"); }

TEST(ThreadName, LongNamesAreCutToFifteenBytes) {
  EXPECT_EQ(name_of_thread_named("kvsd-a-very-long-thread-name"), "kvsd-a-very-lon");
  EXPECT_EQ(name_of_thread_named("exactly-15-byte"), "exactly-15-byte");
}

}  // namespace
}  // namespace kvsd::obs
