#include "storage/retention_sweeper.hpp"

#include <gtest/gtest.h>

#include "storage/fragment_store_harness.hpp"
#include "storage/segment_file.hpp"

namespace kvsd::storage::test {
namespace {

constexpr std::int64_t kHour = 3600LL * 1000;

class RetentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h_.options.segment_max_age_ms = 10LL * 60 * 1000;
    h_.open();
    StreamStoreOptions so;
    so.now_ms = [this] { return h_.now_ms->load(); };
    streams_ = std::make_unique<RocksDbStreamStore>(h_.db, so);
    sweeper_ = std::make_unique<RetentionSweeper>(h_.db, *h_.store, *streams_);
  }
  kvs::StreamInfo create(const std::string& name, std::int32_t hours) {
    kvs::CreateStreamInput in;
    in.stream_name = name;
    in.data_retention_in_hours = hours;
    return streams_->create(in).value();
  }
  void TearDown() override {
    sweeper_.reset();
    streams_.reset();
  }

  Harness h_;
  std::unique_ptr<RocksDbStreamStore> streams_;
  std::unique_ptr<RetentionSweeper> sweeper_;
};

TEST_F(RetentionTest, DeletesOnlyExpiredSegments) {
  const auto keep1h = create("keep1h", 1);
  const auto buffer = create("buffer", 0);
  const std::int64_t t0 = *h_.now_ms;
  // keep1h: one segment written at t0, another at t0 + 20 min (the first rolled by age).
  auto old1 = h_.persist(h_.fragment(keep1h.stream_id, 1, t0)).value().record;
  auto old2 = h_.persist(h_.fragment(keep1h.stream_id, 2, t0 + 1000)).value().record;
  auto buf_old = h_.persist(h_.fragment(buffer.stream_id, 1, t0)).value().record;
  *h_.now_ms += 20 * 60 * 1000;
  auto fresh = h_.persist(h_.fragment(keep1h.stream_id, 3, t0 + 20 * 60 * 1000)).value().record;
  auto buf_new = h_.persist(h_.fragment(buffer.stream_id, 2, t0 + 20 * 60 * 1000)).value().record;
  ASSERT_EQ(old1.segment_id, old2.segment_id);
  ASSERT_NE(old1.segment_id, fresh.segment_id);
  ASSERT_NE(buf_old.segment_id, buf_new.segment_id);

  // At t0 + 22 min: keep1h keeps everything; buffer (5 min) loses its first segment only.
  auto r = sweeper_->run_once(t0 + 22 * 60 * 1000);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->segments_deleted, 1u);
  EXPECT_EQ(r->fragments_deleted, 1u);
  EXPECT_FALSE(h_.store->get(buffer.stream_id, buf_old.fragment_number).value().has_value());
  EXPECT_FALSE(std::filesystem::exists(segment_path(h_.options.blobs_dir, buffer.stream_id, buf_old.segment_id)));
  EXPECT_TRUE(h_.store->get(buffer.stream_id, buf_new.fragment_number).value().has_value());
  EXPECT_EQ(h_.list_all(keep1h.stream_id).size(), 3u);

  // At t0 + 1 h + 1 s: keep1h's first segment (newest fragment t0 + 1 s) is older than an hour,
  // and so is buffer's second one (20 min old, retention 0 keeps 5 min).
  r = sweeper_->run_once(t0 + kHour + 1001);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->segments_deleted, 2u);
  EXPECT_EQ(r->fragments_deleted, 3u);
  EXPECT_EQ(r->bytes_freed, old1.size_bytes + old2.size_bytes + buf_new.size_bytes);
  EXPECT_TRUE(h_.list_all(buffer.stream_id).empty());
  EXPECT_FALSE(std::filesystem::exists(segment_path(h_.options.blobs_dir, keep1h.stream_id, old1.segment_id)));
  const auto left = h_.list_all(keep1h.stream_id);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].fragment_number, fresh.fragment_number);
  EXPECT_TRUE(h_.list_all(keep1h.stream_id, kvs::TimestampKind::producer).size() == 1u);
  EXPECT_FALSE(h_.store->find_by_producer_timestamp(keep1h.stream_id, 1).value().has_value());
  EXPECT_TRUE(h_.store->read_cluster(left[0]).has_value());

  // Expiring the open segment retires it: the next fragment goes to a new one.
  r = sweeper_->run_once(t0 + 3 * kHour);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(h_.list_all(keep1h.stream_id).empty());
  auto next = h_.persist(h_.fragment(keep1h.stream_id, 4, t0 + 3 * kHour));
  ASSERT_TRUE(next.has_value()) << next.error().message;
  EXPECT_NE(next->record.segment_id, fresh.segment_id);
  EXPECT_TRUE(h_.store->read_cluster(next->record).has_value());
}

TEST_F(RetentionTest, DeletingStreamIsPurged) {
  const auto gone = create("gone", 24);
  const auto kept = create("kept", 24);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(h_.persist(h_.fragment(gone.stream_id, i, *h_.now_ms, 100, make_header(3))).has_value());
    ASSERT_TRUE(h_.persist(h_.fragment(kept.stream_id, i, *h_.now_ms, 100)).has_value());
  }
  const auto latest = h_.store->latest(gone.stream_id).value().value();
  ASSERT_TRUE(streams_->remove({"gone", {}}, {}).has_value());
  auto deleting = streams_->list_deleting();
  ASSERT_TRUE(deleting.has_value());
  ASSERT_EQ(deleting->size(), 1u);
  EXPECT_EQ(deleting->front().stream_id, gone.stream_id);
  EXPECT_EQ(deleting->front().status, kvs::StreamStatus::deleting);

  auto r = sweeper_->run_once(*h_.now_ms);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->streams_purged, 1u);
  EXPECT_EQ(r->fragments_deleted, 5u);
  EXPECT_EQ(r->bytes_freed, 500u);
  EXPECT_TRUE(streams_->list_deleting().value().empty());
  EXPECT_FALSE(std::filesystem::exists(stream_blob_dir(h_.options.blobs_dir, gone.stream_id)));
  EXPECT_TRUE(h_.list_all(gone.stream_id).empty());
  EXPECT_TRUE(h_.list_all(gone.stream_id, kvs::TimestampKind::producer).empty());
  EXPECT_FALSE(h_.store->latest(gone.stream_id).value().has_value());
  EXPECT_EQ(h_.store->read_header(gone.stream_id, latest.header_id).error().code, kvs::errc::resource_not_found);
  EXPECT_EQ(h_.list_all(kept.stream_id).size(), 5u);
  // A late fragment of the purged stream is refused, not written.
  auto late = h_.persist(h_.fragment(gone.stream_id, 99, *h_.now_ms));
  ASSERT_FALSE(late.has_value());
  EXPECT_EQ(late.error().code, kvs::errc::resource_not_found);
  EXPECT_FALSE(std::filesystem::exists(stream_blob_dir(h_.options.blobs_dir, gone.stream_id)));
  // The name is free again, under a new id.
  const auto again = create("gone", 24);
  EXPECT_NE(again.stream_id, gone.stream_id);
}

}  // namespace
}  // namespace kvsd::storage::test
