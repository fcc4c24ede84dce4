// avcC/hvcC validation and NAL framing (length-prefixed vs Annex-B).

#include <gtest/gtest.h>

#include "media/nal_framing.hpp"
#include "mp4_test_support.hpp"

namespace kvsd::media {
namespace {

using namespace testing;  // the helpers of mp4_test_support.hpp / mkv_test_support.hpp

TEST(NalFramingTest, CaptureRecordsAndFraming) {
  const Capture h264 = load_capture("realtime-h264/04-putMedia-full.mkv");
  const Capture h265 = load_capture("offline-h265/04-putMedia-full.mkv");
  EXPECT_EQ(avcc_nal_length_size(h264.tracks.at(0).codec_private), 4u);
  EXPECT_EQ(hvcc_nal_length_size(h265.tracks.at(0).codec_private), 4u);
  EXPECT_FALSE(hvcc_nal_length_size(h264.tracks.at(0).codec_private));

  EXPECT_TRUE(is_length_prefixed(Bytes{0, 0, 0, 2, 0x65, 0x88, 0, 0, 0, 1, 0x06}, 4));
  EXPECT_FALSE(is_length_prefixed(Bytes{0, 0, 0, 2, 0x65, 0x88, 0, 0, 0, 2, 0x06}, 4));  // overruns
  EXPECT_FALSE(is_length_prefixed(Bytes{0, 0, 0, 0, 0x65}, 4));                          // empty NAL
  EXPECT_TRUE(is_length_prefixed(Bytes{0, 1, 0x65}, 2));

  EXPECT_TRUE(starts_with_start_code(Bytes{0, 0, 1, 0x65}));
  EXPECT_TRUE(starts_with_start_code(Bytes{0, 0, 0, 1, 0x65}));
  EXPECT_FALSE(starts_with_start_code(Bytes{0, 0, 2, 0x65}));
  const auto converted = annex_b_to_length_prefixed(Bytes{0, 0, 0, 1, 0x67, 0x42, 0, 0, 0, 1, 0x68, 0, 0, 1, 0x65}, 4);
  ASSERT_TRUE(converted);
  EXPECT_EQ(*converted, (Bytes{0, 0, 0, 2, 0x67, 0x42, 0, 0, 0, 1, 0x68, 0, 0, 0, 1, 0x65}));
  EXPECT_FALSE(annex_b_to_length_prefixed(Bytes(300, 0x11), 4));  // no start code
  EXPECT_FALSE(annex_b_to_length_prefixed(Bytes{0, 0, 1, 0x65, 0x11, 0x22}, 1) == std::nullopt);
  Bytes long_nal{0, 0, 1};
  long_nal.resize(3 + 300, 0x11);
  EXPECT_FALSE(annex_b_to_length_prefixed(long_nal, 1)) << "300 bytes do not fit a 1-byte length";
}

}  // namespace
}  // namespace kvsd::media
