// ClusterBlocks: every SimpleBlock and BlockGroup Block of a Cluster in order, with the group's
// ReferenceBlock and BlockDuration; what is malformed stops the walk for good, with a reason.

#include "media/cluster_blocks.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "media/matroska_ids.hpp"
#include "media/mkv_test_support.hpp"

namespace kvsd::media {
namespace {

namespace mt = testing;
using testing::Bytes;

Bytes block_payload(std::uint8_t track, std::uint8_t data) {
  return Bytes{static_cast<std::uint8_t>(0x80 | track), 0, 0, 0x80, data};
}

Bytes cluster_of(const std::vector<Bytes>& children) {
  Bytes payload;
  for (const auto& c : children) mt::append(payload, c);
  return mt::element(mkv_id::kCluster, payload);
}

struct Walk {
  std::vector<ClusterBlock> blocks;
  ClusterBlocks::Next last = ClusterBlocks::Next::end;
  std::string error;
};

Walk walk(const Bytes& cluster) {
  Walk w;
  ClusterBlocks it(cluster);
  ClusterBlock b;
  for (w.last = it.next(b); w.last == ClusterBlocks::Next::block; w.last = it.next(b)) w.blocks.push_back(b);
  w.error = it.error();
  if (w.last == ClusterBlocks::Next::invalid) {
    EXPECT_EQ(it.next(b), ClusterBlocks::Next::invalid) << "invalid is for good";
  }
  return w;
}

TEST(ClusterBlocks, SimpleBlocksAndGroupsInOrderWithWhatTheGroupSays) {
  const Bytes cluster = cluster_of({
      mt::uint_element(mkv_id::kTimecode, 1000),
      mt::element(mkv_id::kSimpleBlock, block_payload(1, 10)),
      mt::element(mkv_id::kBlockGroup, mt::cat({mt::element(mkv_id::kBlock, block_payload(2, 20)),
                                                mt::uint_element(mkv_id::kBlockDuration, 23)})),
      mt::element(mkv_id::kBlockGroup, mt::cat({mt::uint_element(mkv_id::kReferenceBlock, 1),
                                                mt::element(mkv_id::kBlock, block_payload(1, 30))})),
      mt::element(mkv_id::kBlockGroup, mt::uint_element(mkv_id::kBlockDuration, 5)),  // no Block: skipped
      mt::element(mkv_id::kVoid, Bytes(3, 0)),
      mt::element(mkv_id::kSimpleBlock, block_payload(2, 40)),
  });
  const auto w = walk(cluster);
  EXPECT_EQ(w.last, ClusterBlocks::Next::end);
  ASSERT_EQ(w.blocks.size(), 4u);
  const std::uint8_t data[] = {10, 20, 30, 40};
  const std::uint64_t tracks[] = {1, 2, 1, 2};
  for (std::size_t i = 0; i < 4; ++i) {
    ASSERT_EQ(w.blocks[i].data.size(), 1u);  // the head (track, timecode, flags) is decoded
    EXPECT_EQ(w.blocks[i].data[0], data[i]);
    EXPECT_EQ(w.blocks[i].head.track_number, tracks[i]);
    EXPECT_EQ(w.blocks[i].head.frames, 1u);
  }
  // key: a SimpleBlock's flag (set here), a group's Block unless it has a ReferenceBlock
  EXPECT_TRUE(w.blocks[0].key());
  EXPECT_TRUE(w.blocks[1].key());
  EXPECT_FALSE(w.blocks[2].key());
  EXPECT_TRUE(w.blocks[0].simple);
  EXPECT_EQ(w.blocks[0].duration, -1);
  EXPECT_FALSE(w.blocks[1].simple);
  EXPECT_FALSE(w.blocks[1].referenced);
  EXPECT_EQ(w.blocks[1].duration, 23);
  EXPECT_TRUE(w.blocks[2].referenced);
  EXPECT_EQ(w.blocks[2].duration, -1);
  EXPECT_TRUE(w.blocks[3].simple);
}

TEST(ClusterBlocks, UnknownSizeClusterRunsToTheEnd) {
  Bytes cluster = mt::unknown_size_header(mkv_id::kCluster);
  mt::append(cluster, mt::element(mkv_id::kSimpleBlock, block_payload(1, 7)));
  mt::append(cluster, mt::element(mkv_id::kSimpleBlock, block_payload(1, 8)));
  const auto w = walk(cluster);
  EXPECT_EQ(w.last, ClusterBlocks::Next::end);
  EXPECT_EQ(w.blocks.size(), 2u);
}

TEST(ClusterBlocks, MalformedInputStopsTheWalkWithItsReason) {
  const Bytes good = mt::element(mkv_id::kSimpleBlock, block_payload(1, 1));
  struct Case {
    Bytes cluster;
    std::size_t blocks_first;
    std::string error;
  };
  Bytes truncated = cluster_of({good, good});
  truncated.pop_back();
  Bytes bad_child = cluster_of({good});
  bad_child.push_back(0x00);  // not an element ID: the Cluster's size covers it
  bad_child[4] = static_cast<std::uint8_t>(bad_child[4] + 1);
  const Case cases[] = {
      {{}, 0, "not a Cluster"},
      {mt::element(mkv_id::kTags, good), 0, "not a Cluster"},
      {truncated, 0, "truncated Cluster"},
      {bad_child, 1, "malformed Cluster"},
      {cluster_of(
           {good, mt::element(mkv_id::kBlockGroup, mt::cat({mt::element(mkv_id::kBlock, block_payload(1, 2)),
                                                            mt::element(mkv_id::kBlock, block_payload(1, 3))}))}),
       1, "two Blocks in a BlockGroup"},
      {cluster_of({mt::element(mkv_id::kBlockGroup, mt::cat({mt::element(mkv_id::kBlock, block_payload(1, 2)),
                                                             mt::uint_element(mkv_id::kBlockDuration, 1ull << 40)}))}),
       0, "malformed BlockDuration"},
      {cluster_of({good, mt::element(mkv_id::kSimpleBlock, Bytes{0x81, 0x00})}), 1,
       "malformed block header"},  // too short for a timecode and flags
      {cluster_of({mt::element(mkv_id::kSimpleBlock, Bytes{0x81, 0x00, 0x00, 0x84, 0x01, 7, 7, 7})}), 0,
       "malformed block header: fixed-size lacing does not divide the block payload"},
  };
  for (const auto& c : cases) {
    const auto w = walk(c.cluster);
    EXPECT_EQ(w.last, ClusterBlocks::Next::invalid) << c.error;
    EXPECT_EQ(w.blocks.size(), c.blocks_first) << c.error;
    EXPECT_EQ(w.error, c.error);
  }
}

}  // namespace
}  // namespace kvsd::media
