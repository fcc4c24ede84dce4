// Stored-header helpers for the read paths: the Segment size rewrite and Cluster frame counts.

#include <gtest/gtest.h>

#include "media/mkv_document.hpp"
#include "media/mkv_writer.hpp"
#include "mkv_test_support.hpp"

namespace kvsd::media {
namespace {

using namespace testing;  // the helpers of mp4_test_support.hpp / mkv_test_support.hpp

TEST(MkvDocumentTest, UnknownSizeSegmentHeaderRewritesOnlyTheSizeField) {
  Bytes header = testing::ebml_header();
  const std::size_t ebml_size = header.size();
  testing::append(header, Bytes{0x18, 0x53, 0x80, 0x67, 0x40, 0x20});  // Segment, 2-byte size 0x20
  const Bytes children = testing::info();
  testing::append(header, children);

  const Bytes out = unknown_size_segment_header(header);
  Bytes expected(header.begin(), header.begin() + static_cast<std::ptrdiff_t>(ebml_size + 4));
  testing::append(expected, Bytes{0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF});
  testing::append(expected, children);
  EXPECT_EQ(out, expected);
  EXPECT_EQ(unknown_size_segment_header(out), out) << "already unknown: unchanged";
  // The SDK's 1-byte unknown size is kept as it is.
  Bytes sdk = testing::ebml_header();
  testing::append(sdk, Bytes{0x18, 0x53, 0x80, 0x67, 0xFF});
  testing::append(sdk, children);
  EXPECT_EQ(unknown_size_segment_header(sdk), sdk);
  // Not an EBML header first, or no Segment after it: empty.
  EXPECT_TRUE(unknown_size_segment_header(children).empty());
  EXPECT_TRUE(unknown_size_segment_header(testing::ebml_header()).empty());
  EXPECT_TRUE(unknown_size_segment_header(Bytes(header.begin(), header.begin() + 10)).empty());
}

TEST(MkvDocumentTest, CountsClusterFrames) {
  Bytes cluster = write_cluster_start(0);
  append_simple_block(cluster, 1, 0, true, Bytes{1, 2, 3});
  append_simple_block(cluster, 2, 0, true, Bytes{});
  // A laced block (Xiph lacing flag) of 3 frames on track 2.
  append_simple_block(cluster, 2, 5, true, Bytes{2, 1, 1, 9, 9, 9});
  Bytes laced = cluster;
  laced[laced.size() - 6 - 1] |= 0x02;
  const auto counts = count_cluster_frames(laced);
  ASSERT_TRUE(counts);
  ASSERT_EQ(counts->size(), 2u);
  EXPECT_EQ((*counts)[0].track_number, 1u);
  EXPECT_EQ((*counts)[0].frames, 1u);
  EXPECT_EQ((*counts)[1].track_number, 2u);
  EXPECT_EQ((*counts)[1].frames, 4u);
  EXPECT_FALSE(count_cluster_frames(Bytes(cluster.begin(), cluster.end() - 2)));
  EXPECT_FALSE(count_cluster_frames(Bytes{0x1A, 0x45, 0xDF, 0xA3, 0x80}));
}

}  // namespace
}  // namespace kvsd::media
