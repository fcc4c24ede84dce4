// build_mp4_clip on synthetic streams (the capture's avcC and frames in the SDK layout): each
// error code, Annex-B frames, reordered frames, audio before video, the last sample at a cut.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "av/mp4_clip.hpp"
#include "mp4_clip_test_support.hpp"

namespace kvsd::media {
namespace {

using namespace testing;  // the helpers of mp4_test_support.hpp / mkv_test_support.hpp

TEST(Mp4ClipTest, SyntheticStreamRoundTrips) {
  // Guards the error tests below: the same construction with valid data succeeds.
  const auto cf = first_capture_frames(5);
  const Synthetic s = synthetic({video_track(cf.avcc)}, cf.frames);
  const ClipResult clip = expect_clip(build(s));
  const auto tracks = demux_mp4(clip.mp4);
  ASSERT_EQ(tracks.size(), 1u);
  ASSERT_EQ(tracks[0].samples.size(), 5u);
  EXPECT_EQ(to_ms(tracks[0].samples[4].pts, tracks[0].time_base), 160);
}

TEST(Mp4ClipTest, UnsupportedCodecs) {
  const auto cf = first_capture_frames(2);
  EXPECT_EQ(expect_error(build(synthetic({video_track(cf.avcc, "V_VP8")}, cf.frames))), MediaErrc::unsupported_media);
  // The documentation's spelling is not what producers send, and not accepted either.
  EXPECT_EQ(expect_error(build(synthetic({video_track(cf.avcc, "V_MPEG/ISO/AVC")}, cf.frames))),
            MediaErrc::unsupported_media);
  // H.264 + an audio codec other than AAC.
  MkvTrackSpec opus;
  opus.number = 2;
  opus.uid = 2;
  opus.type = MkvTrackType::audio;
  opus.codec_id = "A_OPUS";
  opus.codec_private = Bytes{1, 2, 3};
  opus.sampling_frequency = 48000;
  opus.channels = 2;
  EXPECT_EQ(expect_error(build(synthetic({video_track(cf.avcc), opus}, cf.frames))), MediaErrc::unsupported_media);
  // No video at all: the audio-only capture.
  const Capture audio_only = load_capture("audio-only-relative/04-putMedia-full.mkv");
  const auto in = spans(audio_only.clusters, 0, 2);
  EXPECT_EQ(expect_error(build_mp4_clip(audio_only.header, in)), MediaErrc::unsupported_media);
  // Not a Matroska header.
  const Bytes garbage(64, 0x42);
  EXPECT_EQ(expect_error(build_mp4_clip(garbage, in)), MediaErrc::unsupported_media);
}

TEST(Mp4ClipTest, MissingCodecPrivate) {
  const auto cf = first_capture_frames(2);
  EXPECT_EQ(expect_error(build(synthetic({video_track(Bytes{})}, cf.frames))), MediaErrc::missing_codec_private);
  MkvTrackSpec aac;
  aac.number = 2;
  aac.uid = 2;
  aac.type = MkvTrackType::audio;
  aac.codec_id = "A_AAC";
  aac.sampling_frequency = 48000;
  aac.channels = 2;
  EXPECT_EQ(expect_error(build(synthetic({video_track(cf.avcc), aac}, cf.frames))), MediaErrc::missing_codec_private);
}

TEST(Mp4ClipTest, InvalidCodecPrivate) {
  const auto cf = first_capture_frames(2);
  const auto invalid = [&](const Bytes& cpd, const char* codec = "V_MPEG4/ISO/AVC") {
    return expect_error(build(synthetic({video_track(cpd, codec)}, cf.frames)));
  };
  EXPECT_EQ(invalid(Bytes{0xDE, 0xAD, 0xBE, 0xEF, 0x00, 0x11, 0x22, 0x33}), MediaErrc::invalid_codec_private);
  Bytes wrong_version = cf.avcc;
  wrong_version[0] = 2;
  EXPECT_EQ(invalid(wrong_version), MediaErrc::invalid_codec_private);
  const Bytes truncated(cf.avcc.begin(), cf.avcc.begin() + 12);
  EXPECT_EQ(invalid(truncated), MediaErrc::invalid_codec_private);
  EXPECT_EQ(invalid(Bytes(cf.avcc.begin(), cf.avcc.begin() + 6)), MediaErrc::invalid_codec_private);
  // An avcC is not an hvcC.
  EXPECT_EQ(invalid(cf.avcc, "V_MPEGH/ISO/HEVC"), MediaErrc::invalid_codec_private);
}

TEST(Mp4ClipTest, InvalidMediaFrame) {
  const auto cf = first_capture_frames(3);
  std::vector<Bytes> frames = cf.frames;
  // Neither length-prefixed (the length overruns the frame) nor Annex-B.
  frames[1] = Bytes{0x7F, 0xFF, 0xFF, 0xFF, 0x41, 0x9A, 0x00};
  EXPECT_EQ(expect_error(build(synthetic({video_track(cf.avcc)}, frames))), MediaErrc::invalid_media_frame);
  frames[1] = Bytes{};
  EXPECT_EQ(expect_error(build(synthetic({video_track(cf.avcc)}, frames))), MediaErrc::invalid_media_frame);
  // A cluster without any video frame.
  const Synthetic empty = synthetic({video_track(cf.avcc)}, {});
  EXPECT_EQ(expect_error(build(empty)), MediaErrc::invalid_media_frame);
}

TEST(Mp4ClipTest, InvalidBlocksAndTimestamps) {
  const auto cf = first_capture_frames(3);
  const std::vector<MkvTrackSpec> tracks{video_track(cf.avcc)};
  // A block for a track the header does not declare (the demuxer would drop it silently).
  EXPECT_EQ(expect_error(build_blocks(tracks, {{1, 0, true, cf.frames[0]}, {7, 10, true, cf.frames[1]}})),
            MediaErrc::invalid_media_frame);
  // Video timestamps that repeat.
  EXPECT_EQ(expect_error(build_blocks(
                tracks, {{1, 0, true, cf.frames[0]}, {1, 40, false, cf.frames[1]}, {1, 40, false, cf.frames[2]}})),
            MediaErrc::invalid_media_frame);
}

// Blocks in decode order with reordered presentation times (B-frames): decode times are
// synthesized, increasing and never after the presentation time; presentation starts at 0.
TEST(Mp4ClipTest, ReorderedFramesGetDecodeTimes) {
  const auto cf = first_capture_frames(4);
  const ClipResult clip = expect_clip(build_blocks({video_track(cf.avcc)}, {{1, 0, true, cf.frames[0]},
                                                                            {1, 120, false, cf.frames[1]},
                                                                            {1, 40, false, cf.frames[2]},
                                                                            {1, 80, false, cf.frames[3]}}));
  const auto tracks = demux_mp4(clip.mp4);
  ASSERT_EQ(tracks.size(), 1u);
  const auto& samples = tracks[0].samples;
  ASSERT_EQ(samples.size(), 4u);
  const std::vector<std::int64_t> expected_pts{0, 120, 40, 80};
  for (std::size_t i = 0; i < samples.size(); ++i) {
    EXPECT_EQ(to_ms(samples[i].pts, tracks[0].time_base), expected_pts[i]) << i;
    EXPECT_LE(samples[i].dts, samples[i].pts) << i;
    if (i > 0) {
      EXPECT_GT(samples[i].dts, samples[i - 1].dts) << i;
    }
    EXPECT_TRUE(samples[i].data == cf.frames[i]) << i;
  }
}

// The MP4 starts at the first video frame: audio before it is dropped, audio after it keeps its
// offset from it.
TEST(Mp4ClipTest, AudioBeforeTheFirstVideoFrameIsDropped) {
  const auto cf = first_capture_frames(2);
  const Capture av = load_capture("audio-video-relative/04-putMedia-full.mkv");
  ASSERT_EQ(av.tracks.size(), 2u);
  MkvTrackSpec aac;
  aac.number = 2;
  aac.uid = 2;
  aac.type = MkvTrackType::audio;
  aac.codec_id = "A_AAC";
  aac.codec_private = av.tracks[1].codec_private;
  aac.sampling_frequency = 48000;
  aac.channels = 2;
  std::vector<Bytes> audio;
  for (auto& f : cluster_frames(av.clusters.at(0))) {
    if (f.track == 2 && audio.size() < 3) audio.push_back(std::move(f.payload));
  }
  ASSERT_EQ(audio.size(), 3u);
  const ClipResult clip = expect_clip(build_blocks({video_track(cf.avcc), aac}, {{2, 0, true, audio[0]},
                                                                                 {1, 10, true, cf.frames[0]},
                                                                                 {2, 21, true, audio[1]},
                                                                                 {2, 43, true, audio[2]},
                                                                                 {1, 50, false, cf.frames[1]}}));
  const auto tracks = demux_mp4(clip.mp4);
  ASSERT_EQ(tracks.size(), 2u);
  ASSERT_EQ(tracks[0].samples.size(), 2u);
  EXPECT_EQ(to_ms(tracks[0].samples[0].pts, tracks[0].time_base), 0);
  EXPECT_EQ(to_ms(tracks[0].samples[1].pts, tracks[0].time_base), 40);
  ASSERT_EQ(tracks[1].samples.size(), 2u);
  EXPECT_EQ(to_ms(tracks[1].samples[0].pts, tracks[1].time_base), 11);
  EXPECT_EQ(to_ms(tracks[1].samples[1].pts, tracks[1].time_base), 33);
  EXPECT_TRUE(tracks[1].samples[0].data == audio[1]);
}

// At a cut, the last sample lasts until the first frame cut off, not the previous interval.
TEST(Mp4ClipTest, LastSampleBeforeTheCutEndsAtTheNextFragment) {
  const auto cf = first_capture_frames(3);
  Synthetic s;
  s.header = write_mkv_header(MkvSegmentSpec{}, std::vector<MkvTrackSpec>{video_track(cf.avcc)});
  Bytes first = write_cluster_start(1000);
  append_simple_block(first, 1, 0, true, cf.frames[0]);
  append_simple_block(first, 1, 40, false, cf.frames[1]);
  Bytes second = write_cluster_start(1100);  // 60 ms after the last frame of the first
  append_simple_block(second, 1, 0, true, cf.frames[0]);
  append_simple_block(second, 1, 40, false, cf.frames[2]);
  s.clusters = {first, second};
  const auto in = spans(s.clusters);
  ClipLimits limits;
  limits.max_output_bytes = first.size() + 2000;
  ASSERT_LT(limits.max_output_bytes, first.size() + cf.frames[0].size());
  const ClipResult clip = expect_clip(build_mp4_clip(s.header, in, limits));
  EXPECT_EQ(clip.fragments_used, 1u);
  EXPECT_TRUE(clip.truncated);
  const auto tracks = demux_mp4(clip.mp4);
  ASSERT_EQ(tracks.size(), 1u);
  ASSERT_EQ(tracks[0].samples.size(), 2u);
  EXPECT_EQ(to_ms(tracks[0].samples[1].pts, tracks[0].time_base), 40);
  EXPECT_EQ(to_ms(tracks[0].samples[1].duration, tracks[0].time_base), 60);
  // Without a next fragment the last sample repeats the previous interval.
  const auto alone = spans(s.clusters, 0, 1);
  const auto only = demux_mp4(expect_clip(build_mp4_clip(s.header, alone)).mp4);
  ASSERT_EQ(only.size(), 1u);
  ASSERT_EQ(only[0].samples.size(), 2u);
  EXPECT_EQ(to_ms(only[0].samples[1].duration, only[0].time_base), 40);
}

// Frames a producer sent with Annex-B start codes come out length-prefixed, as the avcC says.
TEST(Mp4ClipTest, AnnexBFramesAreRewrittenToLengthPrefixed) {
  const auto cf = first_capture_frames(4);
  std::vector<Bytes> annex_b;
  for (const auto& frame : cf.frames) {
    Bytes out;
    std::size_t at = 0;
    while (at + 4 <= frame.size()) {
      const std::size_t n =
          (std::size_t{frame[at]} << 24) | (frame[at + 1] << 16) | (frame[at + 2] << 8) | frame[at + 3];
      testing::append(out, Bytes{0, 0, 0, 1});
      out.insert(out.end(), frame.begin() + static_cast<std::ptrdiff_t>(at + 4),
                 frame.begin() + static_cast<std::ptrdiff_t>(at + 4 + n));
      at += 4 + n;
    }
    ASSERT_EQ(at, frame.size());
    annex_b.push_back(std::move(out));
  }
  const ClipResult clip = expect_clip(build(synthetic({video_track(cf.avcc)}, annex_b)));
  const auto tracks = demux_mp4(clip.mp4);
  ASSERT_EQ(tracks.size(), 1u);
  ASSERT_EQ(tracks[0].samples.size(), cf.frames.size());
  for (std::size_t i = 0; i < cf.frames.size(); ++i) EXPECT_TRUE(tracks[0].samples[i].data == cf.frames[i]) << i;
}

}  // namespace
}  // namespace kvsd::media
