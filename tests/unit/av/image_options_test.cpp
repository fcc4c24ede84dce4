#include "av/image_options.hpp"

#include <gtest/gtest.h>

namespace kvsd::av {
namespace {

TEST(ImageOptions, OutputSizeFollowsTheSpecRules) {
  ImageOptions o;
  EXPECT_EQ(output_size(o, 1920, 1080), std::make_pair(1920, 1080));  // neither: original
  o.height = 360;
  EXPECT_EQ(output_size(o, 1920, 1080), std::make_pair(640, 360));  // height only: aspect kept
  EXPECT_EQ(output_size(o, 100, 3000), std::make_pair(12, 360));
  o.height = 1;
  EXPECT_EQ(output_size(o, 10, 1000), std::make_pair(1, 1));  // never 0 wide
  o.width = 100;
  o.height = 100;
  EXPECT_EQ(output_size(o, 1920, 1080), std::make_pair(100, 100));  // both: stretched
}

TEST(ImageOptions, JpegQualityMapsToQscale) {
  EXPECT_EQ(jpeg_qscale(100), 1);
  EXPECT_EQ(jpeg_qscale(1), 31);
  EXPECT_EQ(jpeg_qscale(0), 31);
  EXPECT_EQ(jpeg_qscale(200), 1);
  EXPECT_EQ(jpeg_qscale(50), 8);
  EXPECT_EQ(jpeg_qscale(kDefaultJpegQuality), 3);
  EXPECT_EQ(jpeg_qscale(90), 2);
  EXPECT_EQ(jpeg_qscale(25), 16);
  for (int q = 1; q < 100; ++q) EXPECT_GE(jpeg_qscale(q), jpeg_qscale(q + 1));
}

}  // namespace
}  // namespace kvsd::av
