#include "storage/recovery.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "storage/fragment_store_harness.hpp"
#include "storage/segment_file.hpp"

namespace kvsd::storage::test {
namespace {

void append_garbage(const std::filesystem::path& p, std::size_t n) {
  std::ofstream out(p, std::ios::binary | std::ios::app);
  const auto bytes = make_bytes(42, n);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

TEST(Recovery, TornTailIsTruncatedAndDataIntact) {
  Harness h;
  h.open();
  auto a = h.persist(h.fragment(1, 100, 100, 500)).value().record;
  auto b = h.persist(h.fragment(1, 200, 200, 700)).value().record;
  ASSERT_EQ(a.segment_id, b.segment_id);
  h.close();
  const auto seg = segment_path(h.options.blobs_dir, 1, b.segment_id);
  append_garbage(seg, 333);  // written, never indexed: a crash mid-batch
  ASSERT_EQ(std::filesystem::file_size(seg), 1533u);
  h.open();
  const auto& report = h.store->recovery_report();
  EXPECT_EQ(report.torn_tails_truncated, 1u);
  EXPECT_EQ(report.torn_bytes_truncated, 333u);
  EXPECT_EQ(report.fragments_dropped, 0u);
  EXPECT_EQ(std::filesystem::file_size(seg), 1200u);
  EXPECT_EQ(h.store->read_cluster(a).value(), make_bytes(100 ^ (1ULL << 40), 500));
  EXPECT_EQ(h.store->read_cluster(b).value(), make_bytes(200 ^ (1ULL << 40), 700));
  // Writing goes on without the garbage in between.
  auto c = h.persist(h.fragment(1, 300, 300, 10));
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(h.store->read_cluster(c->record).value(), make_bytes(300 ^ (1ULL << 40), 10));
  h.open();
  EXPECT_TRUE(h.store->recovery_report().clean());
}

TEST(Recovery, UnindexedSegmentsDeletedMissingBytesDropped) {
  Harness h;
  h.open();
  auto a = h.persist(h.fragment(1, 100, 100, 500)).value().record;
  auto other = h.persist(h.fragment(2, 100, 100, 500)).value().record;
  h.close();
  // A segment created by a batch whose index write never happened.
  const auto stray = segment_path(h.options.blobs_dir, 1, 1000);
  append_garbage(stray, 64);
  // A file of an unknown name is left alone.
  const auto foreign = h.options.blobs_dir / "README";
  append_garbage(foreign, 1);
  // Stream 2's segment vanished (should not happen): its index entries go.
  std::filesystem::remove(segment_path(h.options.blobs_dir, 2, other.segment_id));
  h.open();
  const auto& report = h.store->recovery_report();
  EXPECT_EQ(report.unindexed_segments_deleted, 1u);
  EXPECT_EQ(report.missing_segments, 1u);
  EXPECT_EQ(report.fragments_dropped, 1u);
  EXPECT_FALSE(std::filesystem::exists(stray));
  EXPECT_TRUE(std::filesystem::exists(foreign));
  EXPECT_TRUE(h.store->get(1, a.fragment_number).value().has_value());
  EXPECT_FALSE(h.store->get(2, other.fragment_number).value().has_value());
  EXPECT_FALSE(h.store->find_by_producer_timestamp(2, 100).value().has_value());
  EXPECT_TRUE(h.list_all(2).empty());
  // The replay check no longer sees the dropped fragment: it can be stored again.
  auto again = h.persist(h.fragment(2, 100, 100, 500));
  ASSERT_TRUE(again.has_value());
  EXPECT_FALSE(again->duplicate);
}

TEST(Recovery, ShortSegmentDropsOnlyFragmentsPastItsEnd) {
  Harness h;
  h.open();
  auto a = h.persist(h.fragment(1, 100, 100, 500)).value().record;
  auto b = h.persist(h.fragment(1, 200, 200, 500)).value().record;
  h.close();
  std::filesystem::resize_file(segment_path(h.options.blobs_dir, 1, a.segment_id), 700);
  h.open();
  EXPECT_EQ(h.store->recovery_report().fragments_dropped, 1u);
  EXPECT_TRUE(h.store->get(1, a.fragment_number).value().has_value());
  EXPECT_FALSE(h.store->get(1, b.fragment_number).value().has_value());
  EXPECT_EQ(h.store->read_cluster(a).value(), make_bytes(100 ^ (1ULL << 40), 500));
}

}  // namespace
}  // namespace kvsd::storage::test
