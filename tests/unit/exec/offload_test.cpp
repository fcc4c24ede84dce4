#include "exec/offload.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <stdexcept>
#include <thread>

namespace kvsd::exec {
namespace {

namespace asio = boost::asio;

TEST(Offload, RunsOnPoolAndResumesOnCallerStrand) {
  asio::io_context ioc;
  asio::thread_pool pool(2);
  auto strand = asio::make_strand(ioc);
  std::thread::id io_thread = std::this_thread::get_id();
  std::thread::id work_thread;
  bool resumed_on_strand = false;
  int result = 0;
  asio::co_spawn(
      strand,
      [&]() -> asio::awaitable<void> {
        result = co_await offload(pool, [&] {
          work_thread = std::this_thread::get_id();
          return 41;
        });
        ++result;
        resumed_on_strand = strand.running_in_this_thread() && std::this_thread::get_id() == io_thread;
      },
      asio::detached);
  ioc.run();
  EXPECT_EQ(result, 42);
  EXPECT_NE(work_thread, io_thread);
  EXPECT_TRUE(resumed_on_strand);
  pool.join();
}

TEST(Offload, RethrowsInCaller) {
  asio::io_context ioc;
  asio::thread_pool pool(1);
  bool caught = false;
  asio::co_spawn(
      ioc,
      [&]() -> asio::awaitable<void> {
        try {
          co_await offload(pool, []() -> int { throw std::runtime_error("boom"); });
        } catch (const std::runtime_error&) {
          caught = true;
        }
      },
      asio::detached);
  ioc.run();
  EXPECT_TRUE(caught);
  pool.join();
}

}  // namespace
}  // namespace kvsd::exec
