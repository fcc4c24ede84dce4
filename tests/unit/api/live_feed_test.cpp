#include "api/live_feed.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <thread>

namespace kvsd::api {
namespace {

namespace asio = boost::asio;

std::shared_ptr<const LiveFragment> make(const std::string& number) {
  auto f = std::make_shared<LiveFragment>();
  f->record.fragment_number = number;
  f->cluster = std::make_shared<const std::vector<std::uint8_t>>(3, std::uint8_t{7});
  return f;
}

TEST(LiveFeed, SubscribersPerStreamAreLimited) {
  asio::io_context io;
  LiveFeed feed;
  auto a = feed.subscribe(1, io.get_executor(), 2);
  auto b = feed.subscribe(1, io.get_executor(), 2);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(feed.subscribe(1, io.get_executor(), 2), nullptr);
  EXPECT_NE(feed.subscribe(2, io.get_executor(), 2), nullptr);  // another stream has its own limit
  EXPECT_EQ(feed.subscriber_count(1), 2u);
  b.reset();  // a reader that ends frees its place
  EXPECT_EQ(feed.subscriber_count(1), 1u);
  EXPECT_NE(feed.subscribe(1, io.get_executor(), 2), nullptr);
}

TEST(LiveFeed, BytesAreMadeOnlyForStreamsWithSubscribers) {
  asio::io_context io;
  LiveFeed feed;
  int made = 0;
  feed.received(1, "001", [&] {
    ++made;
    return make("001");
  });
  EXPECT_EQ(made, 0);
  auto sub = feed.subscribe(1, io.get_executor(), 3);
  feed.received(1, "002", [&] {
    ++made;
    return make("002");
  });
  EXPECT_EQ(made, 1);
  bool overflowed = true;
  auto got = sub->take(overflowed);
  EXPECT_FALSE(overflowed);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]->record.fragment_number, "002");
  EXPECT_TRUE(sub->take(overflowed).empty());
}

TEST(LiveFeed, InFlightUntilSettled) {
  asio::io_context io;
  LiveFeed feed;
  auto sub = feed.subscribe(5, io.get_executor(), 3);
  feed.received(5, "010", [] { return make("010"); });
  feed.received(5, "011", [] { return make("011"); });
  feed.received(6, "012", [] { return make("012"); });  // other stream
  EXPECT_EQ(sub->in_flight(), (std::vector<std::string>{"010", "011"}));
  EXPECT_TRUE(sub->any_in_flight({"011"}));
  feed.settled(5, "011");
  EXPECT_FALSE(sub->any_in_flight({"011"}));
  EXPECT_TRUE(sub->any_in_flight({"010", "011"}));
  feed.settled(5, "010");
  EXPECT_TRUE(sub->in_flight().empty());
}

TEST(LiveFeed, SlowReaderOverflowsAndKeepsTheNewest) {
  asio::io_context io;
  LiveFeed feed;
  auto sub = feed.subscribe(1, io.get_executor(), 3, 2);
  for (const auto* n : {"1", "2", "3", "4"}) feed.received(1, n, [n] { return make(n); });
  bool overflowed = false;
  auto got = sub->take(overflowed);
  EXPECT_TRUE(overflowed);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0]->record.fragment_number, "3");
  EXPECT_EQ(got[1]->record.fragment_number, "4");
  sub->take(overflowed);
  EXPECT_FALSE(overflowed);  // the flag is cleared by take()
}

TEST(LiveFeed, ReceivedFromAnotherThreadWakesTheWaiter) {
  asio::io_context io;
  LiveFeed feed;
  auto strand = asio::make_strand(io);
  auto sub = feed.subscribe(1, strand, 3);
  const auto before = sub->last_activity();
  auto waiter = [sub]() -> asio::awaitable<bool> {
    co_return co_await sub->wait_until(LiveSubscription::Clock::now() + std::chrono::seconds(10));
  };
  auto woken = asio::co_spawn(strand, waiter(), asio::use_future);
  std::thread producer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    feed.received(1, "7", [] { return make("7"); });
  });
  const auto started = std::chrono::steady_clock::now();
  io.run();
  producer.join();
  EXPECT_TRUE(woken.get());
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  EXPECT_GT(sub->last_activity(), before);
}

TEST(LiveFeed, WaitTimesOutWithoutActivity) {
  asio::io_context io;
  LiveFeed feed;
  auto sub = feed.subscribe(1, io.get_executor(), 3);
  auto waiter = [sub]() -> asio::awaitable<bool> {
    co_return co_await sub->wait_until(LiveSubscription::Clock::now() + std::chrono::milliseconds(30));
  };
  auto woken = asio::co_spawn(io, waiter(), asio::use_future);
  feed.received(2, "9", [] { return make("9"); });  // another stream: no wake-up
  io.run();
  EXPECT_FALSE(woken.get());
}

}  // namespace
}  // namespace kvsd::api
