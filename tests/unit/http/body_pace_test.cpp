#include "http/body_pace.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace kvsd::http {
namespace {

using namespace std::chrono_literals;
using Clock = BodyPace::Clock;

const Clock::time_point t0{};

TEST(BodyPace, MinWindowBytesIsRateTimesWholeSecondsAndAtLeastOne) {
  EXPECT_EQ(BodyPace(30s, 256).min_window_bytes(), 30u * 256u);
  EXPECT_EQ(BodyPace(500ms, 100).min_window_bytes(), 100u);  // under a second counts as one
  EXPECT_EQ(BodyPace(30s, 0).min_window_bytes(), 1u);        // rate 0: a pure stall rule
}

TEST(BodyPace, ATrickleThatResetsAStallTimerFailsAtTheFirstWindow) {
  // The attack: one byte every 10 s. A per-byte stall timer of 30 s never fired.
  BodyPace pace(30s, 256);
  auto now = t0;
  for (int i = 0; i < 3; ++i) {
    pace.wait_begins(now);
    now += 10s;
    ASSERT_TRUE(pace.wait_ends(now, 1)) << "read " << i;
  }
  pace.wait_begins(now);
  auto next = Clock::time_point::max();
  EXPECT_FALSE(pace.check_waiting(now + 1ms, next)) << "30 s of waiting brought 3 bytes";
}

TEST(BodyPace, APendingReadFailsWhenItsWindowEndsShortAndSaysWhenToLook) {
  BodyPace pace(2s, 100);
  pace.wait_begins(t0);
  auto next = Clock::time_point::max();
  ASSERT_TRUE(pace.check_waiting(t0 + 1s, next));
  EXPECT_EQ(next, t0 + 2s);
  EXPECT_FALSE(pace.check_waiting(t0 + 2s + 1ms, next));
}

TEST(BodyPace, AWindowThatGotEnoughRollsOverAndTheNextMustGetEnoughToo) {
  // A camera that sent a burst and then stopped: the burst pays for its own window only.
  BodyPace pace(2s, 100);
  pace.wait_begins(t0);
  ASSERT_TRUE(pace.wait_ends(t0 + 100ms, 5000));
  pace.wait_begins(t0 + 100ms);
  auto next = Clock::time_point::max();
  ASSERT_TRUE(pace.check_waiting(t0 + 2s + 1ms, next)) << "the first window had 5000 bytes";
  EXPECT_EQ(next, t0 + 4s) << "the second window ends 2 s of waiting later";
  EXPECT_FALSE(pace.check_waiting(t0 + 4s + 1ms, next)) << "the second window brought nothing";
}

TEST(BodyPace, TimeTheHandlerSpendsBetweenReadsDoesNotCount) {
  // Backpressure: the server read slowly, the client was quick every time it was asked.
  BodyPace pace(2s, 100);
  auto now = t0;
  for (int i = 0; i < 100; ++i) {
    pace.wait_begins(now);
    now += 10ms;
    ASSERT_TRUE(pace.wait_ends(now, 2)) << "read " << i;
    now += 1s;  // the handler is busy; nothing is awaited
  }
}

TEST(BodyPace, ASteadySenderAtTheRateNeverFails) {
  BodyPace pace(3s, 100);
  auto now = t0;
  for (int i = 0; i < 600; ++i) {
    pace.wait_begins(now);
    now += 100ms;
    ASSERT_TRUE(pace.wait_ends(now, 10)) << "read " << i;  // 100 bytes/s exactly
  }
}

TEST(BodyPace, AReadThatWaitedSeveralWindowsFailsEvenIfItFinallyGotBytes) {
  BodyPace pace(2s, 1);
  pace.wait_begins(t0);
  EXPECT_FALSE(pace.wait_ends(t0 + 5s, 1'000'000)) << "the first window brought nothing";
}

}  // namespace
}  // namespace kvsd::http
