// HLS/DASH segments: playable tracks and codec strings, fMP4 init + media segments read back by
// libavformat's mov demuxer (the concatenation of an init and several media segments, as a
// player sees it), per-track fragment timing, and errors (MPEG-TS chunks: tests/unit/av).

#include "media/hls_segments.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "mp4_test_support.hpp"

namespace kvsd::media {
namespace {

using namespace testing;  // the helpers of mp4_test_support.hpp / mkv_test_support.hpp

constexpr std::int64_t kServerStartMs = 1'764'000'000'000;  // a server-side fragment start, epoch ms

// init + one media segment per cluster; fragment i starts at kServerStartMs + (C_i - C_0), so
// that consecutive fragments continue seamlessly (the producer-timestamp case shifted).
Bytes fmp4_stream(const Bytes& header, const std::vector<Bytes>& clusters, std::uint64_t track) {
  Bytes out = expect_value(fmp4_init_segment(header, track));
  const std::int64_t c0 = cluster_timecode(clusters.front());
  for (std::size_t i = 0; i < clusters.size(); ++i) {
    const std::int64_t start = kServerStartMs + cluster_timecode(clusters[i]) - c0;
    const Bytes media =
        expect_value(fmp4_media_segment(header, clusters[i], track, static_cast<std::uint32_t>(i + 1), start));
    EXPECT_EQ(top_level_boxes(media), (std::vector<std::string>{"styp", "moof", "mdat"}));
    out.insert(out.end(), media.begin(), media.end());
  }
  return out;
}

// Every sample equals its frame: payload, key flag, pts in ms from kServerStartMs, dts == pts.
// (The mov demuxer derives the times within a fragment from tfdt + the trun durations, so exact
// times also check those durations; its packet durations are not reliable for fragments.)
void expect_track_matches(const Track& track, const std::vector<Frame>& frames, std::int64_t c0, bool check_keys) {
  ASSERT_EQ(track.samples.size(), frames.size());
  ASSERT_FALSE(frames.empty());
  EXPECT_TRUE(track.samples.front().key) << "first sample is a sync sample";
  for (std::size_t i = 0; i < frames.size(); ++i) {
    SCOPED_TRACE("sample " + std::to_string(i));
    const Sample& s = track.samples[i];
    EXPECT_EQ(to_ms(s.pts, track.time_base), kServerStartMs + frames[i].timecode - c0);
    EXPECT_EQ(s.dts, s.pts);
    if (check_keys) {
      EXPECT_EQ(s.key, frames[i].key);
    }
    EXPECT_TRUE(s.data == frames[i].payload) << "payload differs";
  }
}

std::uint32_t be32(const Bytes& b, std::size_t at) {
  return (std::uint32_t{b[at]} << 24) | (std::uint32_t{b[at + 1]} << 16) | (std::uint32_t{b[at + 2]} << 8) | b[at + 3];
}

// The sample durations of the (single) trun of a media segment, read independently of FFmpeg.
std::vector<std::uint32_t> trun_durations(const Bytes& media) {
  std::vector<std::uint32_t> out;
  // styp, moof > mfhd, traf > tfhd, tfdt, trun: descend into moof and traf, find trun.
  std::size_t at = 0;
  const std::size_t end = media.size();
  while (at + 8 <= end) {
    const std::uint32_t size = be32(media, at);
    const std::string type(reinterpret_cast<const char*>(media.data() + at + 4), 4);
    if (type == "moof" || type == "traf") {
      at += 8;
      continue;
    }
    if (type == "trun") {
      const std::uint32_t flags = be32(media, at + 8) & 0xFFFFFF;
      const std::uint32_t count = be32(media, at + 12);
      std::size_t p = at + 16;
      if ((flags & 0x1) != 0) p += 4;
      if ((flags & 0x4) != 0) p += 4;
      for (std::uint32_t i = 0; i < count; ++i) {
        if ((flags & 0x100) != 0) {
          out.push_back(be32(media, p));
          p += 4;
        }
        p += ((flags & 0x200) != 0 ? 4 : 0) + ((flags & 0x400) != 0 ? 4 : 0) + ((flags & 0x800) != 0 ? 4 : 0);
      }
      return out;
    }
    EXPECT_GE(size, 8u);
    if (size < 8) break;
    at += size;
  }
  ADD_FAILURE() << "no trun";
  return out;
}

std::uint64_t sum(const std::vector<std::uint32_t>& v) {
  std::uint64_t total = 0;
  for (const auto x : v) total += x;
  return total;
}

MkvTrackSpec aac_track(const Bytes& asc, std::uint8_t number = 2) {
  MkvTrackSpec aac;
  aac.number = number;
  aac.uid = number;
  aac.type = MkvTrackType::audio;
  aac.name = "kvs_audio_track";
  aac.codec_id = "A_AAC";
  aac.codec_private = asc;
  aac.sampling_frequency = 48000;
  aac.channels = 2;
  return aac;
}

const Bytes kAsc48kStereo{0x11, 0x90};  // AAC LC, 48 kHz, 2 channels

// ---- Tracks and codec strings -----------------------------------------------------------------

TEST(HlsSegmentsTest, AvcCodecStringComesFromTheAvccBytes) {
  const auto cf = first_capture_frames(1);
  Bytes avcc = cf.avcc;
  avcc[1] = 0x64;
  avcc[2] = 0x00;
  avcc[3] = 0x1F;
  const auto tracks = expect_value(playback_tracks(header_of({video_track(avcc)}), false));
  ASSERT_EQ(tracks.size(), 1u);
  EXPECT_EQ(tracks[0].codec_string, "avc1.64001f");
  EXPECT_EQ(tracks[0].kind, TrackKind::h264);
  EXPECT_EQ(tracks[0].track_number, 1u);
  EXPECT_EQ(tracks[0].width, 640u);
  EXPECT_EQ(tracks[0].height, 480u);
  avcc[1] = 0x42;
  avcc[2] = 0xC0;
  avcc[3] = 0x32;
  EXPECT_EQ(expect_value(playback_tracks(header_of({video_track(avcc)}), true)).at(0).codec_string, "avc1.42c032");
}

TEST(HlsSegmentsTest, CaptureTracks) {
  const Capture av = load_capture("audio-video-relative/04-putMedia-full.mkv");
  const auto tracks = expect_value(playback_tracks(av.header, false));
  ASSERT_EQ(tracks.size(), 2u);
  EXPECT_EQ(tracks[0].kind, TrackKind::h264);
  EXPECT_EQ(tracks[0].codec_string, "avc1.64001e");  // mkvinfo: High @L3.0
  EXPECT_EQ(tracks[1].kind, TrackKind::aac);
  EXPECT_EQ(tracks[1].track_number, 2u);
  EXPECT_EQ(tracks[1].codec_string, "mp4a.40.2");
  EXPECT_EQ(tracks[1].sample_rate, 48000u);
  EXPECT_EQ(tracks[1].channels, 2u);
  EXPECT_EQ(expect_value(playback_tracks(av.header, true)).size(), 2u);

  const Capture audio = load_capture("audio-only-relative/04-putMedia-full.mkv");
  const auto audio_tracks = expect_value(playback_tracks(audio.header, false));
  ASSERT_EQ(audio_tracks.size(), 1u);
  EXPECT_EQ(audio_tracks[0].kind, TrackKind::aac);
  EXPECT_EQ(audio_tracks[0].codec_string.rfind("mp4a.40.", 0), 0u);
}

TEST(HlsSegmentsTest, HevcCodecStringAndNoHevcOverTs) {
  const Capture c = load_capture("offline-h265/04-putMedia-full.mkv");
  const auto tracks = expect_value(playback_tracks(c.header, false));
  ASSERT_EQ(tracks.size(), 1u);
  EXPECT_EQ(tracks[0].kind, TrackKind::h265);
  // This SDK sample writes an hvcC header with level_idc 0 and shifted compatibility flags; the
  // SPS (what ffprobe reports: Main, level 150) is what the string must say.
  const Bytes& hvcc = c.tracks[0].codec_private;
  ASSERT_GE(hvcc.size(), 13u);
  EXPECT_EQ(hvcc[12], 0);
  EXPECT_EQ(tracks[0].codec_string, "hvc1.1.6.L150");
  EXPECT_EQ(expect_failure(playback_tracks(c.header, true)), MediaErrc::unsupported_media);
}

// An hvcC whose header fields are garbage and whose SPS carries `ptl` (the 12 profile_tier_level
// bytes), written with emulation prevention bytes.
Bytes hvcc_with_sps(const Bytes& ptl) {
  Bytes sps{0x42, 0x01, 0x01};
  std::size_t zeros = 0;
  Bytes raw = ptl;
  testing::append(raw, Bytes{0xA0, 0x0A, 0x08, 0x0F});  // some more SPS bits
  for (const auto b : raw) {
    if (zeros >= 2 && b <= 3) {
      sps.push_back(0x03);
      zeros = 0;
    }
    sps.push_back(b);
    zeros = b == 0 ? zeros + 1 : 0;
  }
  Bytes hvcc{0x01, 0x07, 0x12, 0x34, 0x56, 0x78, 0x9A, 0xBC, 0xDE, 0xF0, 0x11, 0x22,
             0x00, 0xF0, 0x00, 0xFC, 0xFD, 0xF8, 0xF8, 0x00, 0x00, 0x0F, 0x03};
  const auto array = [&hvcc](std::uint8_t type, const Bytes& nal) {
    testing::append(hvcc, Bytes{type, 0x00, 0x01, 0x00, static_cast<std::uint8_t>(nal.size())});
    testing::append(hvcc, nal);
  };
  array(0x20, Bytes{0x40, 0x01, 0x0C, 0x01});
  array(0x21, sps);
  array(0x22, Bytes{0x44, 0x01, 0xC1, 0x72});
  return hvcc;
}

TEST(HlsSegmentsTest, HevcCodecStringFormat) {
  const auto string_of = [](const Bytes& ptl) {
    const auto tracks =
        expect_value(playback_tracks(header_of({video_track(hvcc_with_sps(ptl), "V_MPEGH/ISO/HEVC")}), false));
    return tracks.empty() ? std::string() : tracks[0].codec_string;
  };
  // Main profile, compatibility 0x60000000 (reversed: 6), Main tier, level 93, constraints B0.
  EXPECT_EQ(string_of(Bytes{0x01, 0x60, 0x00, 0x00, 0x00, 0xB0, 0x00, 0x00, 0x00, 0x00, 0x00, 93}), "hvc1.1.6.L93.B0");
  // Main 10, High tier, compatibility 0x20000000 (reversed: 4), no constraint flags.
  EXPECT_EQ(string_of(Bytes{0x22, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 150}), "hvc1.2.4.H150");
  // Profile space 1, a constraint byte after a zero one.
  EXPECT_EQ(string_of(Bytes{0x41, 0x60, 0x00, 0x00, 0x00, 0x90, 0x00, 0x08, 0x00, 0x00, 0x00, 120}),
            "hvc1.A1.6.L120.90.0.8");
}

TEST(HlsSegmentsTest, TrackLayoutsAndCodecErrors) {
  const auto cf = first_capture_frames(1);
  const auto video = video_track(cf.avcc);
  // Documentation spelling accepted.
  EXPECT_EQ(expect_value(playback_tracks(header_of({video_track(cf.avcc, "V_MPEG/ISO/AVC")}), false)).size(), 1u);
  // Unsupported codecs and layouts.
  EXPECT_EQ(expect_failure(playback_tracks(header_of({video_track(cf.avcc, "V_VP8")}), false)),
            MediaErrc::unsupported_media);
  MkvTrackSpec alaw = aac_track(kAsc48kStereo);
  alaw.codec_id = "A_MS/ACM";
  EXPECT_EQ(expect_failure(playback_tracks(header_of({video, alaw}), false)), MediaErrc::unsupported_media);
  EXPECT_EQ(expect_failure(playback_tracks(header_of({aac_track(kAsc48kStereo, 1), video_track(cf.avcc)}), false)),
            MediaErrc::unsupported_media);
  MkvTrackSpec third = aac_track(kAsc48kStereo, 3);
  EXPECT_EQ(expect_failure(playback_tracks(header_of({video, aac_track(kAsc48kStereo), third}), false)),
            MediaErrc::unsupported_media);
  EXPECT_EQ(expect_failure(playback_tracks(Bytes{1, 2, 3, 4}, false)), MediaErrc::unsupported_media);
  // Unsupported wins over a CodecPrivate problem elsewhere.
  EXPECT_EQ(expect_failure(playback_tracks(header_of({video_track(Bytes{}), alaw}), false)),
            MediaErrc::unsupported_media);
  // Missing CodecPrivate.
  EXPECT_EQ(expect_failure(playback_tracks(header_of({video_track(Bytes{})}), false)),
            MediaErrc::missing_codec_private);
  EXPECT_EQ(expect_failure(playback_tracks(header_of({video, aac_track(Bytes{})}), false)),
            MediaErrc::missing_codec_private);
  // Garbage CodecPrivate.
  EXPECT_EQ(expect_failure(playback_tracks(header_of({video_track(Bytes{0xDE, 0xAD, 0xBE, 0xEF, 0, 1, 2})}), false)),
            MediaErrc::invalid_codec_private);
  EXPECT_EQ(expect_failure(playback_tracks(header_of({video_track(cf.avcc, "V_MPEGH/ISO/HEVC")}), false)),
            MediaErrc::invalid_codec_private);
  EXPECT_EQ(expect_failure(playback_tracks(header_of({video, aac_track(Bytes{0x00, 0x00})}), false)),
            MediaErrc::invalid_codec_private)
      << "object type 0";
  EXPECT_EQ(expect_failure(playback_tracks(header_of({video, aac_track(Bytes{0x16, 0x90})}), false)),
            MediaErrc::invalid_codec_private)
      << "reserved sampling frequency index 13";
  EXPECT_EQ(expect_failure(playback_tracks(header_of({video, aac_track(Bytes{0x11})}), false)),
            MediaErrc::invalid_codec_private)
      << "truncated";
}

// ---- fMP4 -----------------------------------------------------------------------------------------

TEST(HlsSegmentsTest, H264CaptureFragmentsPlayBackToBack) {
  const Capture c = load_capture("realtime-h264/04-putMedia-full.mkv");
  ASSERT_GE(c.clusters.size(), 3u);
  const std::vector<Bytes> clusters(c.clusters.begin(), c.clusters.begin() + 3);
  const Bytes init = expect_value(fmp4_init_segment(c.header, 1));
  EXPECT_EQ(top_level_boxes(init), (std::vector<std::string>{"ftyp", "moov"}));
  const auto tracks = demux_mp4(fmp4_stream(c.header, clusters, 1));
  ASSERT_EQ(tracks.size(), 1u);
  EXPECT_EQ(tracks[0].codec, AV_CODEC_ID_H264);
  EXPECT_EQ(tracks[0].tag, MKTAG('a', 'v', 'c', '1'));
  EXPECT_EQ(tracks[0].time_base.den, 90000);
  const auto frames = all_frames(spans(clusters), 1);
  expect_track_matches(tracks[0], frames, cluster_timecode(clusters[0]), true);
}

TEST(HlsSegmentsTest, AudioAndVideoTracksOfACapture) {
  const Capture c = load_capture("audio-video-relative/04-putMedia-full.mkv");
  ASSERT_GE(c.clusters.size(), 2u);
  const std::vector<Bytes> clusters(c.clusters.begin(), c.clusters.begin() + 2);
  const std::int64_t c0 = cluster_timecode(clusters[0]);

  const auto video = demux_mp4(fmp4_stream(c.header, clusters, 1));
  ASSERT_EQ(video.size(), 1u);
  expect_track_matches(video[0], all_frames(spans(clusters), 1), c0, true);

  const auto audio = demux_mp4(fmp4_stream(c.header, clusters, 2));
  ASSERT_EQ(audio.size(), 1u);
  EXPECT_EQ(audio[0].codec, AV_CODEC_ID_AAC);
  EXPECT_EQ(audio[0].time_base.den, 48000);
  expect_track_matches(audio[0], all_frames(spans(clusters), 2), c0, false);
}

TEST(HlsSegmentsTest, HevcCaptureGetsHvc1) {
  const Capture c = load_capture("offline-h265/04-putMedia-full.mkv");
  ASSERT_FALSE(c.clusters.empty());
  const std::vector<Bytes> clusters(c.clusters.begin(),
                                    c.clusters.begin() + std::min<std::size_t>(2, c.clusters.size()));
  const auto tracks = demux_mp4(fmp4_stream(c.header, clusters, 1));
  ASSERT_EQ(tracks.size(), 1u);
  EXPECT_EQ(tracks[0].codec, AV_CODEC_ID_HEVC);
  EXPECT_EQ(tracks[0].tag, MKTAG('h', 'v', 'c', '1'));
  expect_track_matches(tracks[0], all_frames(spans(clusters), 1), cluster_timecode(clusters[0]), true);
}

TEST(HlsSegmentsTest, AudioOnlyCapture) {
  const Capture c = load_capture("audio-only-relative/04-putMedia-full.mkv");
  ASSERT_FALSE(c.clusters.empty());
  const std::vector<Bytes> clusters(c.clusters.begin(),
                                    c.clusters.begin() + std::min<std::size_t>(3, c.clusters.size()));
  const auto tracks = demux_mp4(fmp4_stream(c.header, clusters, c.tracks.at(0).number));
  ASSERT_EQ(tracks.size(), 1u);
  EXPECT_EQ(tracks[0].codec, AV_CODEC_ID_AAC);
  expect_track_matches(tracks[0], all_frames(spans(clusters), c.tracks.at(0).number), cluster_timecode(clusters[0]),
                       false);
}

// Blocks in decode order with reordered presentation times: exact pts, dts <= pts and increasing.
TEST(HlsSegmentsTest, BFramesGetCompositionOffsets) {
  const auto cf = first_capture_frames(4);
  const Bytes header = header_of({video_track(cf.avcc)});
  Bytes cluster = write_cluster_start(5000);
  const std::vector<std::int16_t> pts{0, 120, 40, 80};
  for (std::size_t i = 0; i < 4; ++i) append_simple_block(cluster, 1, pts[i], i == 0, cf.frames[i]);
  const std::vector<Bytes> clusters{cluster};
  Bytes stream = expect_value(fmp4_init_segment(header, 1));
  const Bytes media = expect_value(fmp4_media_segment(header, cluster, 1, 7, kServerStartMs));
  stream.insert(stream.end(), media.begin(), media.end());
  const auto tracks = demux_mp4(stream);
  ASSERT_EQ(tracks.size(), 1u);
  const auto& samples = tracks[0].samples;
  ASSERT_EQ(samples.size(), 4u);
  for (std::size_t i = 0; i < samples.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(to_ms(samples[i].pts, tracks[0].time_base), kServerStartMs + pts[i]);
    EXPECT_LE(samples[i].dts, samples[i].pts);
    if (i > 0) {
      EXPECT_GT(samples[i].dts, samples[i - 1].dts);
    }
    EXPECT_TRUE(samples[i].data == cf.frames[i]);
  }
  EXPECT_EQ(to_ms(samples[0].dts, tracks[0].time_base), kServerStartMs - 40) << "one frame of reorder delay";
  EXPECT_TRUE(samples[0].key);
  EXPECT_FALSE(samples[1].key);
  // The fragment lasts from the first presentation to the last frame's end (average interval).
  const auto timing = expect_value(track_timing(header, cluster, 1));
  EXPECT_EQ(timing.start_offset_ms, 0);
  EXPECT_EQ(timing.duration_ms, 160);
  EXPECT_EQ(trun_durations(media), (std::vector<std::uint32_t>{3600, 3600, 3600, 3600}));
  EXPECT_EQ(timing.frames, 4u);
}

TEST(HlsSegmentsTest, AnnexBFramesBecomeLengthPrefixed) {
  const auto cf = first_capture_frames(4);
  std::vector<Bytes> annex_b;
  for (const auto& frame : cf.frames) {
    Bytes out;
    std::size_t at = 0;
    while (at + 4 <= frame.size()) {
      const std::size_t n =
          (std::size_t{frame[at]} << 24) | (frame[at + 1] << 16) | (frame[at + 2] << 8) | frame[at + 3];
      // Alternate 3- and 4-byte start codes.
      testing::append(out, at == 0 ? Bytes{0, 0, 0, 1} : Bytes{0, 0, 1});
      out.insert(out.end(), frame.begin() + static_cast<std::ptrdiff_t>(at + 4),
                 frame.begin() + static_cast<std::ptrdiff_t>(at + 4 + n));
      at += 4 + n;
    }
    annex_b.push_back(std::move(out));
  }
  const Synthetic s = synthetic({video_track(cf.avcc)}, annex_b);
  const auto tracks = demux_mp4(fmp4_stream(s.header, s.clusters, 1));
  ASSERT_EQ(tracks.size(), 1u);
  ASSERT_EQ(tracks[0].samples.size(), cf.frames.size());
  for (std::size_t i = 0; i < cf.frames.size(); ++i) EXPECT_TRUE(tracks[0].samples[i].data == cf.frames[i]) << i;
}

TEST(HlsSegmentsTest, SegmentErrors) {
  const auto cf = first_capture_frames(3);
  const Synthetic s = synthetic({video_track(cf.avcc)}, cf.frames);
  // Track absent.
  EXPECT_EQ(expect_failure(fmp4_init_segment(s.header, 2)), MediaErrc::unsupported_media);
  EXPECT_EQ(expect_failure(fmp4_media_segment(s.header, s.clusters[0], 2, 1, kServerStartMs)),
            MediaErrc::unsupported_media);
  EXPECT_EQ(expect_failure(track_timing(s.header, s.clusters[0], 2)), MediaErrc::unsupported_media);
  // Codec and CodecPrivate.
  EXPECT_EQ(expect_failure(fmp4_init_segment(header_of({video_track(cf.avcc, "V_VP9")}), 1)),
            MediaErrc::unsupported_media);
  EXPECT_EQ(expect_failure(fmp4_init_segment(header_of({video_track(Bytes{})}), 1)), MediaErrc::missing_codec_private);
  EXPECT_EQ(expect_failure(fmp4_init_segment(header_of({video_track(Bytes{1, 2, 3, 4, 5, 6, 7, 8})}), 1)),
            MediaErrc::invalid_codec_private);
  EXPECT_EQ(expect_failure(fmp4_init_segment(header_of({video_track(cf.avcc), aac_track(Bytes{0xFF, 0xFF})}), 2)),
            MediaErrc::invalid_codec_private);
  // A frame in neither NAL framing, an empty frame, repeated timestamps.
  auto frames = cf.frames;
  frames[1] = Bytes{0x7F, 0xFF, 0xFF, 0xFF, 0x41, 0x9A, 0x00};
  const Synthetic bad = synthetic({video_track(cf.avcc)}, frames);
  EXPECT_EQ(expect_failure(fmp4_media_segment(bad.header, bad.clusters[0], 1, 1, kServerStartMs)),
            MediaErrc::invalid_media_frame);
  frames[1] = Bytes{};
  const Synthetic empty = synthetic({video_track(cf.avcc)}, frames);
  EXPECT_EQ(expect_failure(fmp4_media_segment(empty.header, empty.clusters[0], 1, 1, kServerStartMs)),
            MediaErrc::invalid_media_frame);
  Bytes repeated = write_cluster_start(5000);
  append_simple_block(repeated, 1, 0, true, cf.frames[0]);
  append_simple_block(repeated, 1, 40, false, cf.frames[1]);
  append_simple_block(repeated, 1, 40, false, cf.frames[2]);
  EXPECT_EQ(expect_failure(fmp4_media_segment(s.header, repeated, 1, 1, kServerStartMs)),
            MediaErrc::invalid_media_frame);
  EXPECT_EQ(expect_failure(track_timing(s.header, repeated, 1)), MediaErrc::invalid_media_frame);
  // Not a Cluster, a truncated block.
  EXPECT_EQ(expect_failure(fmp4_media_segment(s.header, Bytes{1, 2, 3}, 1, 1, kServerStartMs)),
            MediaErrc::invalid_media_frame);
  Bytes truncated = write_cluster_start(5000);
  testing::append(truncated, Bytes{0xA3, 0x82, 0x81});
  EXPECT_EQ(expect_failure(fmp4_media_segment(s.header, truncated, 1, 1, kServerStartMs)),
            MediaErrc::invalid_media_frame);
}

// ---- Timing ---------------------------------------------------------------------------------------

TEST(HlsSegmentsTest, TrackTimingOfCaptureFragments) {
  const Capture c = load_capture("audio-video-relative/04-putMedia-full.mkv");
  ASSERT_GE(c.clusters.size(), 2u);
  for (std::size_t k = 0; k < 2; ++k) {
    const auto frames = cluster_frames(c.clusters[k]);
    const std::int64_t tc = cluster_timecode(c.clusters[k]);
    std::vector<std::int64_t> video;
    for (const auto& f : frames) {
      if (f.track == 1) video.push_back(f.timecode - tc);
    }
    ASSERT_GE(video.size(), 2u);
    const auto timing = expect_value(track_timing(c.header, c.clusters[k], 1));
    EXPECT_EQ(timing.frames, video.size());
    EXPECT_EQ(timing.start_offset_ms, video.front());
    const std::int64_t span = video.back() - video.front();
    // Last frame: the average interval (exact here: a constant frame rate).
    EXPECT_EQ(timing.duration_ms, span + span / static_cast<std::int64_t>(video.size() - 1));

    // EXTINF equals the media segment's sample durations (90 kHz); consecutive frames are one
    // interval apart.
    const Bytes media = expect_value(fmp4_media_segment(c.header, c.clusters[k], 1, 1, kServerStartMs));
    const auto durations = trun_durations(media);
    ASSERT_EQ(durations.size(), video.size());
    EXPECT_EQ(static_cast<std::int64_t>(sum(durations)), timing.duration_ms * 90);
    for (std::size_t i = 0; i + 1 < video.size(); ++i) EXPECT_EQ(durations[i], (video[i + 1] - video[i]) * 90) << i;

    // Audio: 1024 samples at 48 kHz for the last frame.
    const auto audio = expect_value(track_timing(c.header, c.clusters[k], 2));
    EXPECT_GT(audio.frames, 0u);
  }
}

// BlockGroups with BlockDuration, and laced AAC blocks (Xiph, fixed, EBML).
TEST(HlsSegmentsTest, BlockGroupsAndLacing) {
  const auto cf = first_capture_frames(2);
  const Bytes header = header_of({video_track(cf.avcc), aac_track(kAsc48kStereo)});
  const Bytes a1(100, 0x21), a2(150, 0x22), a3(120, 0x23);
  const auto block_body = [](std::uint8_t track, std::int16_t tc, std::uint8_t flags) {
    return Bytes{static_cast<std::uint8_t>(0x80 | track), static_cast<std::uint8_t>(tc >> 8),
                 static_cast<std::uint8_t>(tc & 0xFF), flags};
  };
  Bytes cluster = write_cluster_start(5000);
  // Video key frame as a BlockGroup with BlockDuration 50, then a referencing one.
  testing::append(
      cluster, element(0xA0, cat({element(0xA1, cat({block_body(1, 0, 0), cf.frames[0]})), uint_element(0x9B, 50)})));
  testing::append(cluster, element(0xA0, cat({element(0xA1, cat({block_body(1, 40, 0), cf.frames[1]})),
                                              uint_element(0xFB, 40), uint_element(0x9B, 50)})));
  // Xiph lacing: 2 frames, no BlockDuration: 1024-sample spacing (21.333 ms).
  testing::append(cluster, element(0xA3, cat({block_body(2, 0, 0x82), Bytes{1, 100}, a1, a2})));
  // Fixed-size lacing: 2 x 120 bytes.
  testing::append(cluster, element(0xA3, cat({block_body(2, 50, 0x84), Bytes{1}, a3, a3})));
  // EBML lacing: 3 frames 100, 150, 120 (first size vint, a signed delta +50, the rest).
  testing::append(cluster,
                  element(0xA3, cat({block_body(2, 100, 0x86), Bytes{2, 0x80 | 100, 0x80 | (50 + 63)}, a1, a2, a3})));

  const auto video = expect_value(track_timing(header, cluster, 1));
  EXPECT_EQ(video.frames, 2u);
  EXPECT_EQ(video.duration_ms, 90) << "40 + the last BlockDuration";
  const auto audio = expect_value(track_timing(header, cluster, 2));
  EXPECT_EQ(audio.frames, 7u);

  Bytes stream = expect_value(fmp4_init_segment(header, 2));
  const Bytes media = expect_value(fmp4_media_segment(header, cluster, 2, 1, kServerStartMs));
  stream.insert(stream.end(), media.begin(), media.end());
  const auto tracks = demux_mp4(stream);
  ASSERT_EQ(tracks.size(), 1u);
  const auto& s = tracks[0].samples;
  ASSERT_EQ(s.size(), 7u);
  const std::vector<Bytes> payloads{a1, a2, a3, a3, a1, a2, a3};
  const std::int64_t base = kServerStartMs * 48;
  const std::vector<std::int64_t> ticks{0, 1024, 50 * 48, 50 * 48 + 1024, 100 * 48, 100 * 48 + 1024, 100 * 48 + 2048};
  for (std::size_t i = 0; i < s.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_TRUE(s[i].data == payloads[i]);
    EXPECT_EQ(s[i].pts, base + ticks[i]);
  }
  const auto durations = trun_durations(media);
  ASSERT_EQ(durations.size(), 7u);
  EXPECT_EQ(durations.back(), 1024u);
  EXPECT_EQ(durations[0], 1024u);
  EXPECT_EQ(durations[1], 50u * 48 - 1024);
  EXPECT_EQ(audio.duration_ms, 164) << "100 + 3 frames of 1024 samples";
}

}  // namespace
}  // namespace kvsd::media
