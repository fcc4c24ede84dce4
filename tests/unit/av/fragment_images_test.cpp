#include "av/fragment_images.hpp"

#include <gtest/gtest.h>

#include "imaging_test_support.hpp"
#include "media/mkv_test_support.hpp"

namespace kvsd::av {
namespace {

using testing::Bytes;
using testing::kFrameMs;
using testing::Stream;
using testing::StreamSpec;

constexpr std::int64_t kMs = 1'000'000;

ImageOptions png() {
  ImageOptions o;
  o.format = ImageFormat::png;
  return o;
}

// The frame index each image shows (-1: not ok or undecodable).
std::vector<int> shown(const FragmentImages& out, int frames, AVCodecID id = AV_CODEC_ID_PNG) {
  std::vector<int> idx;
  for (const auto& img : out.images) {
    if (img.status != ImageStatus::ok) {
      idx.push_back(-1);
      continue;
    }
    const auto pic = testing::decode_image(*img.bytes, id);
    idx.push_back(pic ? testing::frame_index_of(*pic, frames) : -2);
  }
  return idx;
}

TEST(FragmentImages, EachInstantShowsTheLastFrameAtOrBeforeIt) {
  const Stream s = testing::encode_h264(StreamSpec{});
  const std::vector<std::int64_t> at{0, 39 * kMs, 40 * kMs, 41 * kMs, 200 * kMs, 239 * kMs, 440 * kMs, 999 * kMs};
  const auto out = extract_fragment_images(s.header, s.cluster, at, png());
  ASSERT_EQ(out.images.size(), at.size());
  EXPECT_EQ(shown(out, s.frames), (std::vector<int>{0, 0, 1, 1, 5, 5, 11, 11})) << out.error;
  EXPECT_TRUE(out.error.empty()) << out.error;
}

TEST(FragmentImages, BFramesAreChosenInPresentationOrder) {
  StreamSpec spec;
  spec.frames = 16;
  spec.b_frames = 2;
  const Stream s = testing::encode_h264(spec);
  // The stored order differs from presentation order when the encoder used B-frames.
  ASSERT_FALSE(std::is_sorted(s.block_pts.begin(), s.block_pts.end())) << "libx264 made no B-frames";
  std::vector<std::int64_t> at;
  std::vector<int> want;
  for (int i = 0; i < spec.frames; ++i) {
    at.push_back((i * kFrameMs + 20) * kMs);
    want.push_back(i);
  }
  const auto out = extract_fragment_images(s.header, s.cluster, at, png());
  EXPECT_EQ(shown(out, s.frames), want) << out.error;
}

TEST(FragmentImages, AnnexBFramesAndInBandParameterSetsDecode) {
  for (auto framing : {StreamSpec::Framing::annex_b_frames_avcc, StreamSpec::Framing::annex_b_in_band}) {
    StreamSpec spec;
    spec.framing = framing;
    const Stream s = testing::encode_h264(spec);
    const std::vector<std::int64_t> at{0, 120 * kMs, 460 * kMs};
    const auto out = extract_fragment_images(s.header, s.cluster, at, png());
    EXPECT_EQ(shown(out, s.frames), (std::vector<int>{0, 3, 11})) << out.error;
  }
}

TEST(FragmentImages, InstantsBeforeTheFirstFrameAreNoMedia) {
  StreamSpec spec;
  spec.first_pts_ms = 100;
  const Stream s = testing::encode_h264(spec);
  const std::vector<std::int64_t> at{0, 99 * kMs, 100 * kMs, 150 * kMs};
  const auto out = extract_fragment_images(s.header, s.cluster, at, png());
  ASSERT_EQ(out.images.size(), 4u);
  EXPECT_EQ(out.images[0].status, ImageStatus::no_media);
  EXPECT_EQ(out.images[1].status, ImageStatus::no_media);
  EXPECT_EQ(shown(out, s.frames), (std::vector<int>{-1, -1, 0, 1}));
}

TEST(FragmentImages, DecodingStopsAfterTheLastInstantAndSharesEncodedFrames) {
  StreamSpec spec;
  spec.frames = 24;
  const Stream s = testing::encode_h264(spec);
  const std::vector<std::int64_t> at{0, 10 * kMs, 20 * kMs, 45 * kMs};
  const auto out = extract_fragment_images(s.header, s.cluster, at, png());
  EXPECT_EQ(shown(out, s.frames), (std::vector<int>{0, 0, 0, 1}));
  EXPECT_LT(out.frames_decoded, 6u);  // frames 0, 1 and the one that shows frame 1 ended
  EXPECT_EQ(out.images[0].bytes.get(), out.images[2].bytes.get());
  EXPECT_NE(out.images[0].bytes.get(), out.images[3].bytes.get());
}

TEST(FragmentImages, JpegQualityAndSizes) {
  StreamSpec spec;
  spec.width = 160;
  spec.height = 120;
  const Stream s = testing::encode_h264(spec);
  const std::vector<std::int64_t> at{80 * kMs};
  ImageOptions o;
  o.format = ImageFormat::jpeg;
  auto out = extract_fragment_images(s.header, s.cluster, at, o);
  ASSERT_EQ(out.images[0].status, ImageStatus::ok) << out.error;
  const Bytes& jpeg = *out.images[0].bytes;
  ASSERT_GE(jpeg.size(), 4u);
  EXPECT_EQ(jpeg[0], 0xFF);
  EXPECT_EQ(jpeg[1], 0xD8);
  auto pic = testing::decode_image(jpeg, AV_CODEC_ID_MJPEG);
  ASSERT_TRUE(pic);
  EXPECT_EQ(pic->width, 160);
  EXPECT_EQ(pic->height, 120);
  EXPECT_EQ(testing::frame_index_of(*pic, s.frames), 2);

  o.width = 33;
  o.height = 17;  // both: stretched
  out = extract_fragment_images(s.header, s.cluster, at, o);
  pic = testing::decode_image(*out.images[0].bytes, AV_CODEC_ID_MJPEG);
  ASSERT_TRUE(pic);
  EXPECT_EQ(pic->width, 33);
  EXPECT_EQ(pic->height, 17);

  o.width.reset();
  o.height = 60;  // height only: keeps 4:3
  o.format = ImageFormat::png;
  out = extract_fragment_images(s.header, s.cluster, at, o);
  pic = testing::decode_image(*out.images[0].bytes, AV_CODEC_ID_PNG);
  ASSERT_TRUE(pic);
  EXPECT_EQ(pic->width, 80);
  EXPECT_EQ(pic->height, 60);
  EXPECT_EQ(pic->format, AV_PIX_FMT_RGB24);
}

TEST(FragmentImages, ManyJpegImagesFromOneEncoder) {
  const Stream s = testing::encode_h264(StreamSpec{});
  std::vector<std::int64_t> at;
  for (int i = 0; i < s.frames; ++i) at.push_back(i * kFrameMs * kMs);
  ImageOptions o;
  o.height = 24;
  const auto out = extract_fragment_images(s.header, s.cluster, at, o);
  std::vector<int> want;
  for (int i = 0; i < s.frames; ++i) want.push_back(i);
  EXPECT_EQ(shown(out, s.frames, AV_CODEC_ID_MJPEG), want) << out.error;
}

TEST(FragmentImages, LowerJpegQualityMakesSmallerFiles) {
  // A flat frame compresses to almost nothing at any quality; use the capture's real picture.
  const Bytes body = media::testing::read_file(media::testing::capture_path("realtime-h264/04-putMedia-full.mkv"));
  media::testing::Recorder rec;
  media::MkvIngestParser parser(rec);
  ASSERT_FALSE(parser.feed(body).has_value());
  ASSERT_FALSE(parser.finish().has_value());
  ASSERT_FALSE(rec.fragments.empty());
  const std::vector<std::int64_t> at{0};
  std::vector<std::size_t> sizes;
  for (int q : {5, 50, 95}) {
    ImageOptions o;
    o.jpeg_quality = q;
    const auto out = extract_fragment_images(rec.headers.front().bytes, rec.fragments.front().cluster_bytes, at, o);
    ASSERT_EQ(out.images[0].status, ImageStatus::ok) << out.error;
    sizes.push_back(out.images[0].bytes->size());
  }
  EXPECT_LT(sizes[0], sizes[1]);
  EXPECT_LT(sizes[1], sizes[2]);
}

TEST(FragmentImages, SdkCapturesOfH264AndH265Decode) {
  for (const char* name : {"realtime-h264/04-putMedia-full.mkv", "offline-h265/04-putMedia-full.mkv"}) {
    const Bytes body = media::testing::read_file(media::testing::capture_path(name));
    media::testing::Recorder rec;
    media::MkvIngestParser parser(rec);
    ASSERT_FALSE(parser.feed(body).has_value()) << name;
    ASSERT_FALSE(parser.finish().has_value()) << name;
    ASSERT_FALSE(rec.fragments.empty()) << name;
    const auto& track = rec.headers.front().tracks.front();
    const std::vector<std::int64_t> at{0, 500 * kMs};
    const auto out = extract_fragment_images(rec.headers.front().bytes, rec.fragments.front().cluster_bytes, at, png());
    for (const auto& img : out.images) {
      ASSERT_EQ(img.status, ImageStatus::ok) << name << ": " << out.error;
      const auto pic = testing::decode_image(*img.bytes, AV_CODEC_ID_PNG);
      ASSERT_TRUE(pic) << name;
      EXPECT_EQ(static_cast<std::uint64_t>(pic->width), track.pixel_width) << name;
      EXPECT_EQ(static_cast<std::uint64_t>(pic->height), track.pixel_height) << name;
    }
  }
}

TEST(FragmentImages, GarbageFramePayloadsAreMediaErrors) {
  const Stream s = testing::encode_h264(StreamSpec{});
  // Same Cluster layout, every payload byte after the first block header replaced.
  Bytes cluster = s.cluster;
  std::uint32_t x = 12345;
  const std::size_t first_block = media::write_cluster_start(0).size() + media::kSimpleBlockHeaderSize;
  for (std::size_t i = first_block; i < cluster.size(); ++i) {
    x = x * 1103515245u + 12345u;
    cluster[i] = static_cast<std::uint8_t>(x >> 16);
  }
  // The block headers after the first are garbage now too: the Cluster is malformed or the frames
  // undecodable; either way every instant is MEDIA_ERROR and nothing crashes.
  const std::vector<std::int64_t> at{0, 100 * kMs, 300 * kMs};
  const auto out = extract_fragment_images(s.header, cluster, at, png());
  for (const auto& img : out.images) EXPECT_EQ(img.status, ImageStatus::media_error);
  EXPECT_FALSE(out.error.empty());
}

TEST(FragmentImages, CorruptPayloadsInsideValidBlocksAreMediaErrors) {
  const Stream s = testing::encode_h264(StreamSpec{});
  // Rebuild the Cluster with the same block headers and random payloads of the same length.
  const auto frames_cluster = s.cluster;
  Bytes cluster = media::write_cluster_start(0);
  std::uint32_t x = 777;
  std::size_t at_byte = cluster.size();
  for (std::size_t b = 0; b < s.block_pts.size(); ++b) {
    // Walk the stored blocks: header (13 bytes) + payload of the size in the header.
    const std::uint8_t* h = frames_cluster.data() + at_byte;
    std::uint64_t size = 0;
    for (int k = 1; k < 8; ++k) size = (size << 8) | h[1 + k];
    const std::size_t payload = static_cast<std::size_t>(size) - 4;
    Bytes garbage(payload);
    for (auto& g : garbage) {
      x = x * 1103515245u + 12345u;
      g = static_cast<std::uint8_t>(x >> 16);
    }
    media::append_simple_block(cluster, 1, static_cast<std::int16_t>(s.block_pts[b]), b == 0, garbage);
    at_byte += media::kSimpleBlockHeaderSize + payload;
  }
  ASSERT_EQ(cluster.size(), frames_cluster.size());
  const std::vector<std::int64_t> at{0, 100 * kMs};
  const auto out = extract_fragment_images(s.header, cluster, at, png());
  for (const auto& img : out.images) EXPECT_EQ(img.status, ImageStatus::media_error);
}

TEST(FragmentImages, TrackOneMustBeVideo) {
  media::MkvTrackSpec audio;
  audio.type = media::MkvTrackType::audio;
  audio.codec_id = "A_AAC";
  audio.codec_private = {0x12, 0x10};
  audio.sampling_frequency = 48000;
  audio.channels = 2;
  const Bytes header =
      media::write_mkv_header(media::MkvSegmentSpec{}, std::span<const media::MkvTrackSpec>(&audio, 1));
  Bytes cluster = media::write_cluster_start(0);
  const Bytes frame(32, 0x21);
  media::append_simple_block(cluster, 1, 0, true, frame);
  const std::vector<std::int64_t> at{0};
  const auto out = extract_fragment_images(header, cluster, at, png());
  ASSERT_EQ(out.images.size(), 1u);
  EXPECT_EQ(out.images[0].status, ImageStatus::media_error);

  media::MkvTrackSpec vp8;
  vp8.codec_id = "V_VP8";
  const Bytes header2 = media::write_mkv_header(media::MkvSegmentSpec{}, std::span<const media::MkvTrackSpec>(&vp8, 1));
  EXPECT_EQ(extract_fragment_images(header2, cluster, at, png()).images[0].status, ImageStatus::media_error);
}

TEST(FragmentImages, MalformedHeaderOrClusterIsMediaError) {
  const Stream s = testing::encode_h264(StreamSpec{});
  const std::vector<std::int64_t> at{0};
  const Bytes bad{1, 2, 3};
  EXPECT_EQ(extract_fragment_images(bad, s.cluster, at, png()).images[0].status, ImageStatus::media_error);
  EXPECT_EQ(extract_fragment_images(s.header, bad, at, png()).images[0].status, ImageStatus::media_error);
  // Truncated Cluster at every 97th byte: never a crash; each instant settles one way or another.
  for (std::size_t cut = 1; cut < s.cluster.size(); cut += 97) {
    const std::span<const std::uint8_t> part(s.cluster.data(), cut);
    const auto out = extract_fragment_images(s.header, part, at, png());
    ASSERT_EQ(out.images.size(), 1u);
  }
}

TEST(FragmentImages, NoInstantsDoesNothing) {
  const Stream s = testing::encode_h264(StreamSpec{});
  const auto out = extract_fragment_images(s.header, s.cluster, {}, png());
  EXPECT_TRUE(out.images.empty());
  EXPECT_EQ(out.frames_decoded, 0u);
}

}  // namespace
}  // namespace kvsd::av
