// build_mp4_clip on real SDK captures, checked by demuxing the MP4 again with libavformat and
// comparing every sample with the frames found by an independent walk of the Cluster bytes
// (timestamps, durations, key flags, payload bytes); truncation at the size limit.

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "av/mp4_clip.hpp"
#include "mp4_clip_test_support.hpp"

namespace kvsd::media {
namespace {

using namespace testing;  // the helpers of mp4_test_support.hpp / mkv_test_support.hpp

// ---- Captures -----------------------------------------------------------------------------------

TEST(Mp4ClipTest, H264CaptureKeepsEveryFrameAndItsTiming) {
  const Capture c = load_capture("realtime-h264/04-putMedia-full.mkv");
  ASSERT_GE(c.clusters.size(), 3u);
  const auto in = spans(c.clusters);
  const ClipResult clip = expect_clip(build_mp4_clip(c.header, in));
  EXPECT_EQ(clip.fragments_used, c.clusters.size());
  EXPECT_FALSE(clip.truncated);
  expect_layout(clip.mp4);

  const auto tracks = demux_mp4(clip.mp4);
  ASSERT_EQ(tracks.size(), 1u);
  EXPECT_EQ(tracks[0].codec, AV_CODEC_ID_H264);
  EXPECT_EQ(tracks[0].tag, MKTAG('a', 'v', 'c', '1'));
  EXPECT_EQ(tracks[0].time_base.den, 1000) << "video keeps the Matroska millisecond timescale";
  const auto frames = all_frames(in, 1);
  ASSERT_FALSE(frames.empty());
  ASSERT_FALSE(tracks[0].samples.empty());
  EXPECT_EQ(tracks[0].samples.front().pts, 0);
  // The last frame lasts as long as the one before it.
  const std::int64_t last =
      frames.size() >= 2 ? frames[frames.size() - 1].timecode - frames[frames.size() - 2].timecode : 0;
  expect_samples_match(tracks[0], frames, frames.front().timecode, last, true);
}

TEST(Mp4ClipTest, MidStreamFragmentsStartAtZero) {
  const Capture c = load_capture("kvssink-h264/04-putMedia-full.mkv");
  ASSERT_GE(c.clusters.size(), 5u);
  const auto in = spans(c.clusters, 2, 3);
  const ClipResult clip = expect_clip(build_mp4_clip(c.header, in));
  EXPECT_EQ(clip.fragments_used, 3u);
  const auto tracks = demux_mp4(clip.mp4);
  ASSERT_EQ(tracks.size(), 1u);
  const auto frames = all_frames(in, 1);
  ASSERT_FALSE(frames.empty());
  EXPECT_GT(frames.front().timecode, 0) << "the fragments really start later in the stream";
  expect_samples_match(tracks[0], frames, frames.front().timecode, std::nullopt, true);
  EXPECT_EQ(tracks[0].samples.front().pts, 0);
}

TEST(Mp4ClipTest, H264WithAacKeepsBothTracks) {
  const Capture c = load_capture("audio-video-relative/04-putMedia-full.mkv");
  ASSERT_GE(c.clusters.size(), 2u);
  const auto in = spans(c.clusters);
  const ClipResult clip = expect_clip(build_mp4_clip(c.header, in));
  expect_layout(clip.mp4);
  const auto tracks = demux_mp4(clip.mp4);
  ASSERT_EQ(tracks.size(), 2u);
  EXPECT_EQ(tracks[0].codec, AV_CODEC_ID_H264);
  EXPECT_EQ(tracks[1].codec, AV_CODEC_ID_AAC);
  const auto video = all_frames(in, 1);
  auto audio = all_frames(in, 2);
  ASSERT_FALSE(video.empty());
  ASSERT_FALSE(audio.empty());
  const std::int64_t start = video.front().timecode;
  std::erase_if(audio, [&](const Frame& f) { return f.timecode < start; });
  expect_samples_match(tracks[0], video, start, std::nullopt, true);
  expect_samples_match(tracks[1], audio, start, std::nullopt, false);
}

TEST(Mp4ClipTest, HevcGetsTheHvc1SampleEntry) {
  const Capture c = load_capture("offline-h265/04-putMedia-full.mkv");
  ASSERT_FALSE(c.clusters.empty());
  const auto in = spans(c.clusters);
  const ClipResult clip = expect_clip(build_mp4_clip(c.header, in));
  expect_layout(clip.mp4);
  const auto tracks = demux_mp4(clip.mp4);
  ASSERT_EQ(tracks.size(), 1u);
  EXPECT_EQ(tracks[0].codec, AV_CODEC_ID_HEVC);
  EXPECT_EQ(tracks[0].tag, MKTAG('h', 'v', 'c', '1'));
  const auto frames = all_frames(in, 1);
  expect_samples_match(tracks[0], frames, frames.front().timecode, std::nullopt, true);
}

// A Segment whose known size covers only the stored header (as a producer may send it) must not
// hide the clusters from the demuxer.
TEST(Mp4ClipTest, KnownSizeSegmentInTheStoredHeader) {
  const Capture c = load_capture("realtime-h264/04-putMedia-full.mkv");
  ebml::ElementHeader h;
  ASSERT_EQ(ebml::decode_header(c.header, h), ebml::ReadStatus::complete);
  const std::size_t ebml_size = h.length + static_cast<std::size_t>(h.size);
  ebml::ElementHeader segment;
  ASSERT_EQ(ebml::decode_header(std::span(c.header).subspan(ebml_size), segment), ebml::ReadStatus::complete);
  ASSERT_TRUE(segment.unknown_size);
  const Bytes rest(c.header.begin() + static_cast<std::ptrdiff_t>(ebml_size + segment.length), c.header.end());
  Bytes header = c.header;
  header.resize(ebml_size + 4);
  testing::put_size(header, rest.size(), 2);  // known, 2-byte size: just the header's children
  header.insert(header.end(), rest.begin(), rest.end());

  const auto in = spans(c.clusters, 0, 2);
  const ClipResult clip = expect_clip(build_mp4_clip(header, in));
  const auto tracks = demux_mp4(clip.mp4);
  ASSERT_EQ(tracks.size(), 1u);
  EXPECT_EQ(tracks[0].samples.size(), all_frames(in, 1).size());
}

// No shared state: concurrent calls give the same bytes as one call (the output is bit-exact).
TEST(Mp4ClipTest, ConcurrentCallsAreIndependentAndDeterministic) {
  const Capture c = load_capture("audio-video-relative/04-putMedia-full.mkv");
  const auto in = spans(c.clusters, 0, 3);
  const ClipResult reference = expect_clip(build_mp4_clip(c.header, in));
  ASSERT_FALSE(reference.mp4.empty());
  std::vector<Bytes> outputs(3);
  std::vector<std::thread> threads;
  for (auto& out : outputs) {
    threads.emplace_back([&c, &in, &out] {
      const auto result = build_mp4_clip(c.header, in);
      if (const auto* clip = std::get_if<ClipResult>(&result)) out = clip->mp4;
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& out : outputs) EXPECT_TRUE(out == reference.mp4);
}

// ---- Truncation -----------------------------------------------------------------------------------

TEST(Mp4ClipTest, StopsAtTheLastWholeFragmentThatFits) {
  const Capture c = load_capture("realtime-h264/04-putMedia-full.mkv");
  ASSERT_GE(c.clusters.size(), 4u);
  const auto in = spans(c.clusters);
  // Room for a bit more than two fragments.
  ClipLimits limits;
  limits.max_output_bytes = c.clusters[0].size() + c.clusters[1].size() + c.clusters[2].size() / 2;
  const ClipResult clip = expect_clip(build_mp4_clip(c.header, in, limits));
  EXPECT_TRUE(clip.truncated);
  EXPECT_GE(clip.fragments_used, 1u);
  EXPECT_LT(clip.fragments_used, c.clusters.size());
  EXPECT_LE(clip.mp4.size(), limits.max_output_bytes);
  expect_layout(clip.mp4);

  // One more fragment would not have fitted.
  const auto more = spans(c.clusters, 0, clip.fragments_used + 1);
  const ClipResult bigger = expect_clip(build_mp4_clip(c.header, more));
  EXPECT_GT(bigger.mp4.size(), limits.max_output_bytes);

  // Exactly the frames of the fragments used; the last one lasts until the first frame cut off.
  const auto used = spans(c.clusters, 0, clip.fragments_used);
  const auto frames = all_frames(used, 1);
  const auto next = cluster_frames(c.clusters[clip.fragments_used]);
  ASSERT_FALSE(next.empty());
  const auto tracks = demux_mp4(clip.mp4);
  ASSERT_EQ(tracks.size(), 1u);
  expect_samples_match(tracks[0], frames, frames.front().timecode, next.front().timecode - frames.back().timecode,
                       true);
}

TEST(Mp4ClipTest, FirstFragmentIsKeptEvenWhenAloneTooLarge) {
  const Capture c = load_capture("realtime-h264/04-putMedia-full.mkv");
  const auto in = spans(c.clusters, 0, 3);
  ClipLimits limits;
  limits.max_output_bytes = 1000;
  const ClipResult clip = expect_clip(build_mp4_clip(c.header, in, limits));
  EXPECT_TRUE(clip.truncated);
  EXPECT_EQ(clip.fragments_used, 1u);
  const auto tracks = demux_mp4(clip.mp4);
  ASSERT_EQ(tracks.size(), 1u);
  EXPECT_EQ(tracks[0].samples.size(), all_frames(spans(c.clusters, 0, 1), 1).size());
}

}  // namespace
}  // namespace kvsd::media
