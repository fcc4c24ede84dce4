// MPEG-TS chunks (ts_segment): read back by libavformat's mpegts demuxer and checked frame by
// frame against the Cluster they came from (timing at 90 kHz, SPS/PPS before IDRs, ADTS audio),
// and their errors.

#include "av/ts_segment.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "media/mp4_test_support.hpp"

namespace kvsd::av {
namespace {

using namespace media;           // NOLINT(google-build-using-namespace): Capture, MediaErrc, ...
using namespace media::testing;  // NOLINT(google-build-using-namespace): the MP4/MKV test helpers

constexpr std::int64_t kServerStartMs = 1'764'000'000'000;  // a server-side fragment start, epoch ms

struct TsPacket {
  int stream = 0;
  std::int64_t pts = 0, dts = 0;
  bool key = false;
  Bytes data;
};
struct TsContent {
  std::vector<AVCodecID> codecs;
  std::vector<TsPacket> packets;
};

TsContent demux_ts(const Bytes& ts) {
  TsContent out;
  demux(
      ts, "mpegts", true,
      [&out](const AVFormatContext& input) {
        for (unsigned i = 0; i < input.nb_streams; ++i) out.codecs.push_back(input.streams[i]->codecpar->codec_id);
      },
      [&out](const AVPacket& packet) {
        TsPacket p;
        p.stream = packet.stream_index;
        p.pts = packet.pts;
        p.dts = packet.dts;
        p.key = (packet.flags & AV_PKT_FLAG_KEY) != 0;
        p.data.assign(packet.data, packet.data + packet.size);
        out.packets.push_back(std::move(p));
      });
  return out;
}

bool has_nal_type(const Bytes& annex_b, int type) {
  for (std::size_t i = 0; i + 3 < annex_b.size(); ++i) {
    if (annex_b[i] == 0 && annex_b[i + 1] == 0 && annex_b[i + 2] == 1 && (annex_b[i + 3] & 0x1F) == type) return true;
  }
  return false;
}

TEST(TsSegmentTest, ChunkHoldsH264AndAac) {
  const Capture c = load_capture("audio-video-relative/04-putMedia-full.mkv");
  ASSERT_GE(c.clusters.size(), 2u);
  const Bytes& cluster = c.clusters[1];
  const std::int64_t start = kServerStartMs;
  const Bytes ts = expect_value(ts_segment(c.header, cluster, start));
  ASSERT_GE(ts.size(), 188u * 3);
  EXPECT_EQ(ts.size() % 188, 0u);
  EXPECT_EQ(ts[0], 0x47);
  EXPECT_EQ(((ts[1] & 0x1F) << 8) | ts[2], 0) << "PAT first";

  const TsContent content = demux_ts(ts);
  ASSERT_EQ(content.codecs.size(), 2u);
  const auto frames = cluster_frames(cluster);
  const std::int64_t tc = cluster_timecode(cluster);
  std::vector<Frame> video, audio;
  for (const auto& f : frames) (f.track == 1 ? video : audio).push_back(f);
  int video_stream = content.codecs[0] == AV_CODEC_ID_H264 ? 0 : 1;
  EXPECT_EQ(content.codecs[static_cast<std::size_t>(video_stream)], AV_CODEC_ID_H264);
  EXPECT_EQ(content.codecs[static_cast<std::size_t>(1 - video_stream)], AV_CODEC_ID_AAC);
  std::vector<TsPacket> v, a;
  for (const auto& p : content.packets) (p.stream == video_stream ? v : a).push_back(p);
  ASSERT_EQ(v.size(), video.size());
  ASSERT_EQ(a.size(), audio.size());
  constexpr std::int64_t kWrap = std::int64_t{1} << 33;
  for (std::size_t i = 0; i < v.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(v[i].pts % kWrap, ((start + video[i].timecode - tc) * 90) % kWrap);
    EXPECT_EQ(v[i].dts, v[i].pts);
    EXPECT_EQ(v[i].key, video[i].key);
  }
  EXPECT_TRUE(has_nal_type(v[0].data, 7)) << "SPS before the IDR";
  EXPECT_TRUE(has_nal_type(v[0].data, 8)) << "PPS before the IDR";
  EXPECT_TRUE(has_nal_type(v[0].data, 5));
  EXPECT_EQ(a[0].pts % kWrap, ((start + audio[0].timecode - tc) * 90) % kWrap);
  for (const auto& p : a) {
    ASSERT_GE(p.data.size(), 7u);
    EXPECT_EQ(p.data[0], 0xFF) << "ADTS";
  }
}

TEST(TsSegmentTest, ChunkOfAudioOnlyStream) {
  const Capture c = load_capture("audio-only-relative/04-putMedia-full.mkv");
  ASSERT_FALSE(c.clusters.empty());
  const Bytes ts = expect_value(ts_segment(c.header, c.clusters[0], kServerStartMs));
  const TsContent content = demux_ts(ts);
  ASSERT_EQ(content.codecs, std::vector<AVCodecID>{AV_CODEC_ID_AAC});
  const auto frames = cluster_frames(c.clusters[0]);
  ASSERT_EQ(content.packets.size(), frames.size());
  const std::int64_t tc = cluster_timecode(c.clusters[0]);
  constexpr std::int64_t kWrap = std::int64_t{1} << 33;
  EXPECT_EQ(content.packets[0].pts, ((kServerStartMs + frames[0].timecode - tc) * 90) % kWrap);
}

TEST(TsSegmentTest, ChunkErrors) {
  const Capture hevc = load_capture("offline-h265/04-putMedia-full.mkv");
  EXPECT_EQ(expect_failure(ts_segment(hevc.header, hevc.clusters.at(0), kServerStartMs)), MediaErrc::unsupported_media);
  EXPECT_EQ(expect_failure(ts_segment(header_of({video_track(Bytes{})}), write_cluster_start(0), kServerStartMs)),
            MediaErrc::missing_codec_private);
  // A Cluster without any frame.
  const auto cf = first_capture_frames(1);
  EXPECT_EQ(expect_failure(ts_segment(header_of({video_track(cf.avcc)}), write_cluster_start(0), kServerStartMs)),
            MediaErrc::invalid_media_frame);
}

}  // namespace
}  // namespace kvsd::av
