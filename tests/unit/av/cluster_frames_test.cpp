#include "av/cluster_frames.hpp"

#include <gtest/gtest.h>

#include "media/matroska_ids.hpp"
#include "media/mkv_test_support.hpp"
#include "media/mkv_writer.hpp"

namespace kvsd::av {
namespace {

namespace mt = media::testing;
using media::testing::Bytes;

Bytes block_payload(std::uint64_t track, std::int16_t tc, std::uint8_t flags, const Bytes& data) {
  Bytes b{static_cast<std::uint8_t>(0x80 | track), static_cast<std::uint8_t>(static_cast<std::uint16_t>(tc) >> 8),
          static_cast<std::uint8_t>(tc & 0xFF), flags};
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

Bytes known_cluster(const std::vector<Bytes>& children) {
  Bytes payload;
  for (const auto& c : children) mt::append(payload, c);
  return mt::element(media::mkv_id::kCluster, payload);
}

TEST(ClusterFrames, SimpleBlocksOfOneTrackInStoredOrder) {
  const Bytes cluster = known_cluster({
      mt::uint_element(media::mkv_id::kTimecode, 1000),
      mt::element(media::mkv_id::kSimpleBlock, block_payload(1, 0, 0x80, {1, 2, 3})),
      mt::element(media::mkv_id::kSimpleBlock, block_payload(2, 0, 0x80, {9})),
      mt::element(media::mkv_id::kSimpleBlock, block_payload(1, 80, 0x00, {4})),
      mt::element(media::mkv_id::kSimpleBlock, block_payload(1, -5, 0x00, {5, 6})),
  });
  const auto frames = read_cluster_frames(cluster, 1);
  ASSERT_TRUE(frames);
  ASSERT_EQ(frames->size(), 3u);
  EXPECT_EQ((*frames)[0].timecode, 0);
  EXPECT_TRUE((*frames)[0].key);
  EXPECT_EQ(Bytes((*frames)[0].payload.begin(), (*frames)[0].payload.end()), (Bytes{1, 2, 3}));
  EXPECT_EQ((*frames)[1].timecode, 80);
  EXPECT_FALSE((*frames)[1].key);
  EXPECT_EQ((*frames)[2].timecode, -5);
  const auto audio = read_cluster_frames(cluster, 2);
  ASSERT_TRUE(audio);
  ASSERT_EQ(audio->size(), 1u);
  EXPECT_EQ(read_cluster_frames(cluster, 3)->size(), 0u);
}

TEST(ClusterFrames, BlockGroupsAreKeyUnlessReferenced) {
  const Bytes cluster = known_cluster({
      mt::element(media::mkv_id::kBlockGroup, mt::element(media::mkv_id::kBlock, block_payload(1, 0, 0, {7}))),
      mt::element(media::mkv_id::kBlockGroup, mt::cat({mt::element(media::mkv_id::kBlock, block_payload(1, 40, 0, {8})),
                                                       mt::uint_element(media::mkv_id::kReferenceBlock, 40)})),
  });
  const auto frames = read_cluster_frames(cluster, 1);
  ASSERT_TRUE(frames);
  ASSERT_EQ(frames->size(), 2u);
  EXPECT_TRUE((*frames)[0].key);
  EXPECT_FALSE((*frames)[1].key);
  EXPECT_EQ((*frames)[1].timecode, 40);
}

TEST(ClusterFrames, UnknownSizeClusterAsStored) {
  Bytes cluster = media::write_cluster_start(5);
  media::append_simple_block(cluster, 1, 0, true, Bytes{0, 0, 0, 1, 0x65});
  media::append_simple_block(cluster, 1, 33, false, Bytes{0, 0, 0, 1, 0x41});
  const auto frames = read_cluster_frames(cluster, 1);
  ASSERT_TRUE(frames);
  EXPECT_EQ(frames->size(), 2u);
}

TEST(ClusterFrames, MalformedInputIsRejected) {
  EXPECT_FALSE(read_cluster_frames(Bytes{}, 1));
  EXPECT_FALSE(read_cluster_frames(mt::element(media::mkv_id::kTags, Bytes{}), 1));  // not a Cluster
  // Laced video block.
  EXPECT_FALSE(read_cluster_frames(
      known_cluster({mt::element(media::mkv_id::kSimpleBlock, block_payload(1, 0, 0x82, {1, 2, 3}))}), 1));
  // Block too short for its header.
  EXPECT_FALSE(read_cluster_frames(known_cluster({mt::element(media::mkv_id::kSimpleBlock, Bytes{0x81, 0})}), 1));
  // Known size larger than the bytes.
  Bytes cluster = known_cluster({mt::element(media::mkv_id::kSimpleBlock, block_payload(1, 0, 0x80, {1}))});
  cluster.pop_back();
  EXPECT_FALSE(read_cluster_frames(cluster, 1));
}

TEST(ClusterFrames, EveryTruncationIsSafe) {
  Bytes cluster = media::write_cluster_start(5);
  for (int i = 0; i < 5; ++i)
    media::append_simple_block(cluster, 1, static_cast<std::int16_t>(i * 40), i == 0, Bytes(20, 1));
  std::size_t complete = 0;
  for (std::size_t cut = 0; cut <= cluster.size(); ++cut) {
    const auto frames = read_cluster_frames(std::span<const std::uint8_t>(cluster.data(), cut), 1);
    if (frames) {
      EXPECT_LE(frames->size(), 5u);
      for (const auto& f : *frames) EXPECT_EQ(f.payload.size(), 20u);
      if (frames->size() == 5) ++complete;
    }
  }
  EXPECT_EQ(complete, 1u);  // only the whole Cluster holds all five
}

}  // namespace
}  // namespace kvsd::av
