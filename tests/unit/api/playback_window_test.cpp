#include "api/playback_window.hpp"

#include <gtest/gtest.h>

#include "support/memory_fragment_store.hpp"

namespace kvsd::api {
namespace {

class PlaybackWindowTest : public ::testing::Test {
 protected:
  // Fragment i: producer 1000 s + i s, server 2000 s + i s, 2 s long.
  std::string add(int i) {
    kvs::IngestFragment f;
    f.stream_id = 7;
    f.fragment_number = store_.next_fragment_number();
    f.header = std::make_shared<const std::vector<std::uint8_t>>(std::vector<std::uint8_t>{1, 2, 3});
    f.cluster_bytes.assign(100, static_cast<std::uint8_t>(i));
    f.producer_timestamp_ms = 1'000'000 + i * 1000;
    f.server_timestamp_ms = 2'000'000 + i * 1000;
    f.duration_ms = 2000;
    std::string number;
    store_.persist_async(std::move(f),
                         [&number](kvs::Result<kvs::PersistOutcome> r) { number = r.value().record.fragment_number; });
    return number;
  }

  PlaybackSession session(PlaybackMode mode) {
    PlaybackSession s;
    s.id = new_session_id();
    s.stream_id = 7;
    s.mode = mode;
    s.max_results = 5;
    return s;
  }

  testing_support::MemoryFragmentStore store_;
  PlaybackWindows windows_;
};

TEST_F(PlaybackWindowTest, OnDemandListsTheRangeFromTheStartWithTrimmedDurations) {
  std::vector<std::string> n;
  for (int i = 0; i < 10; ++i) n.push_back(add(i));
  auto s = session(PlaybackMode::on_demand);
  s.kind = kvs::TimestampKind::producer;
  s.start_ms = 1'002'000;
  s.end_ms = 1'008'000;
  s.max_results = 4;
  auto w = windows_.compute(store_, s, 0);
  ASSERT_TRUE(w.has_value());
  ASSERT_EQ(w->segments.size(), 4u);
  EXPECT_EQ(w->segments.front().segment.fragment_number, n[2]);
  EXPECT_EQ(w->segments.back().segment.fragment_number, n[5]);
  EXPECT_EQ(w->segments.front().segment.sequence, 0u);
  EXPECT_EQ(w->segments.front().segment.start_ms, 1'002'000);
  // 2 s fragments 1 s apart: listed ones end where the next starts; the last keeps its own length.
  EXPECT_EQ(w->segments[0].segment.duration_ms, 1000);
  EXPECT_EQ(w->segments[3].segment.duration_ms, 2000);
  EXPECT_TRUE(w->ended);
}

TEST_F(PlaybackWindowTest, LiveSlidesInArrivalOrderWithRisingSequences) {
  std::vector<std::string> n;
  for (int i = 0; i < 8; ++i) n.push_back(add(i));
  const auto s = session(PlaybackMode::live);
  auto w = windows_.compute(store_, s, 0);
  ASSERT_TRUE(w.has_value());
  ASSERT_EQ(w->segments.size(), 5u);
  EXPECT_EQ(w->segments.front().segment.fragment_number, n[3]);
  EXPECT_EQ(w->segments.back().segment.fragment_number, n[7]);
  EXPECT_EQ(w->segments.front().segment.sequence, 0u);
  EXPECT_FALSE(w->ended);
  // Nothing new: the same window.
  w = windows_.compute(store_, s, 1000);
  EXPECT_EQ(w->segments.front().segment.fragment_number, n[3]);
  // Two new fragments push two out; sequences and the discontinuity count follow (ALWAYS).
  n.push_back(add(8));
  n.push_back(add(9));
  w = windows_.compute(store_, s, 2000);
  ASSERT_EQ(w->segments.size(), 5u);
  EXPECT_EQ(w->segments.front().segment.fragment_number, n[5]);
  EXPECT_EQ(w->segments.front().segment.sequence, 2u);
  EXPECT_EQ(w->segments.back().segment.sequence, 6u);
  EXPECT_EQ(w->discontinuity_sequence, 2u);
  // Another session has its own window.
  auto other = windows_.compute(store_, session(PlaybackMode::live), 2000);
  EXPECT_EQ(other->segments.front().segment.sequence, 0u);
}

TEST_F(PlaybackWindowTest, LiveReplayReleasesAtThePaceOfTheMediaAndEnds) {
  std::vector<std::string> n;
  for (int i = 0; i < 6; ++i) n.push_back(add(i));
  auto s = session(PlaybackMode::live_replay);
  s.kind = kvs::TimestampKind::server;
  s.start_ms = 2'001'000;
  s.end_ms = 2'005'000;
  s.max_results = 10;
  auto w = windows_.compute(store_, s, 50'000);
  ASSERT_TRUE(w.has_value());
  ASSERT_EQ(w->segments.size(), 3u);  // the head start
  EXPECT_EQ(w->segments.front().segment.fragment_number, n[1]);
  EXPECT_FALSE(w->ended);
  w = windows_.compute(store_, s, 50'000 + 3'000);  // fragment 4 is 3 s after fragment 1
  EXPECT_EQ(w->segments.size(), 4u);
  EXPECT_FALSE(w->ended);
  w = windows_.compute(store_, s, 50'000 + 4'000);
  ASSERT_EQ(w->segments.size(), 5u);
  EXPECT_EQ(w->segments.back().segment.fragment_number, n[5]);
  w = windows_.compute(store_, s, 50'000 + 5'000);
  EXPECT_TRUE(w->ended);
}

}  // namespace
}  // namespace kvsd::api
