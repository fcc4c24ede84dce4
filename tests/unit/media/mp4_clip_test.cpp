// build_mp4_clip on real SDK captures and on synthetic streams, checked by demuxing the MP4 again
// with libavformat and comparing every sample with the frames found by an independent walk of the
// Cluster bytes (timestamps, key flags, payload bytes).

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <numeric>
#include <string>
#include <thread>

#include "media/ebml_reader.hpp"
#include "media/ffmpeg_ptr.hpp"
#include "media/mkv_document.hpp"
#include "media/mkv_writer.hpp"
#include "media/mp4_clip.hpp"
#include "media/mp4_layout.hpp"
#include "media/nal_framing.hpp"
#include "mkv_test_support.hpp"

namespace kvsd::media {
namespace {

using testing::Bytes;

// ---- Inputs -----------------------------------------------------------------------------------

struct Capture {
  Bytes header;
  std::vector<Bytes> clusters;
  std::vector<TrackInfo> tracks;
};

Capture load_capture(const std::string& relative) {
  const Bytes body = testing::read_file(testing::capture_path(relative));
  testing::Recorder recorder;
  MkvIngestParser parser(recorder);
  EXPECT_FALSE(parser.feed(body).has_value());
  EXPECT_FALSE(parser.finish().has_value());
  Capture capture;
  EXPECT_FALSE(recorder.headers.empty());
  if (recorder.headers.empty()) return capture;
  capture.header = recorder.headers.front().bytes;
  capture.tracks = recorder.headers.front().tracks;
  for (auto& fragment : recorder.fragments) capture.clusters.push_back(std::move(fragment.cluster_bytes));
  return capture;
}

std::vector<std::span<const std::uint8_t>> spans(const std::vector<Bytes>& clusters, std::size_t from = 0,
                                                 std::size_t count = SIZE_MAX) {
  std::vector<std::span<const std::uint8_t>> out;
  for (std::size_t i = from; i < clusters.size() && out.size() < count; ++i) out.emplace_back(clusters[i]);
  return out;
}

// A frame as the Cluster bytes hold it (SimpleBlocks or BlockGroup/Block, no lacing).
struct Frame {
  std::uint64_t track = 0;
  std::int64_t timecode = 0;  // cluster timecode + block timecode, scale units
  bool key = false;
  Bytes payload;
};

void read_block(std::span<const std::uint8_t> block, std::int64_t cluster_tc, bool simple, std::vector<Frame>& out) {
  std::uint64_t track = 0;
  std::size_t length = 0;
  ASSERT_EQ(ebml::decode_vint(block, track, length), ebml::ReadStatus::complete);
  ASSERT_GE(block.size(), length + 3);
  const auto rel = static_cast<std::int16_t>((block[length] << 8) | block[length + 1]);
  const std::uint8_t flags = block[length + 2];
  ASSERT_EQ(flags & 0x06, 0) << "laced blocks are not expected in the captures";
  Frame f;
  f.track = track;
  f.timecode = cluster_tc + rel;
  f.key = simple && (flags & 0x80) != 0;
  f.payload.assign(block.begin() + static_cast<std::ptrdiff_t>(length + 3), block.end());
  out.push_back(std::move(f));
}

std::vector<Frame> cluster_frames(std::span<const std::uint8_t> cluster) {
  std::vector<Frame> frames;
  ebml::ElementHeader h;
  EXPECT_EQ(ebml::decode_header(cluster, h), ebml::ReadStatus::complete);
  EXPECT_EQ(h.id, 0x1F43B675u);
  const auto payload = h.unknown_size ? cluster.subspan(h.length) : cluster.subspan(h.length, h.size);
  ebml::ChildIterator it(payload);
  std::span<const std::uint8_t> child;
  std::int64_t cluster_tc = 0;
  for (auto n = it.next(h, child); n != ebml::ChildIterator::Next::end; n = it.next(h, child)) {
    EXPECT_EQ(n, ebml::ChildIterator::Next::child);
    if (n != ebml::ChildIterator::Next::child) break;
    if (h.id == 0xE7) cluster_tc = *ebml::read_int(child);
    if (h.id == 0xA3) read_block(child, cluster_tc, true, frames);
    if (h.id == 0xA0) {
      ebml::ChildIterator group(child);
      std::span<const std::uint8_t> part;
      ebml::ElementHeader gh;
      bool referenced = false;
      std::size_t at = frames.size();
      while (group.next(gh, part) == ebml::ChildIterator::Next::child) {
        if (gh.id == 0xA1) read_block(part, cluster_tc, false, frames);
        if (gh.id == 0xFB) referenced = true;
      }
      if (at < frames.size()) frames[at].key = !referenced;
    }
  }
  return frames;
}

std::vector<Frame> all_frames(std::span<const std::span<const std::uint8_t>> clusters, std::uint64_t track) {
  std::vector<Frame> out;
  for (const auto cluster : clusters) {
    for (auto& f : cluster_frames(cluster)) {
      if (f.track == track) out.push_back(std::move(f));
    }
  }
  return out;
}

// ---- Reading the MP4 back -----------------------------------------------------------------------

std::vector<std::string> top_level_boxes(const Bytes& mp4) {
  std::vector<std::string> types;
  std::size_t at = 0;
  while (at + 8 <= mp4.size()) {
    std::uint64_t size = (std::uint64_t{mp4[at]} << 24) | (mp4[at + 1] << 16) | (mp4[at + 2] << 8) | mp4[at + 3];
    types.emplace_back(reinterpret_cast<const char*>(mp4.data() + at + 4), 4);
    if (size == 1) {
      size = 0;
      for (int i = 0; i < 8; ++i) size = (size << 8) | mp4[at + 8 + static_cast<std::size_t>(i)];
    }
    if (size < 8) break;
    at += size;
  }
  EXPECT_EQ(at, mp4.size()) << "top-level boxes do not cover the file";
  return types;
}

struct Sample {
  std::int64_t pts = 0, dts = 0, duration = 0;  // stream time base
  bool key = false;
  Bytes data;
};

struct Track {
  AVCodecID codec = AV_CODEC_ID_NONE;
  std::uint32_t tag = 0;
  AVRational time_base{0, 1};
  std::vector<Sample> samples;
};

struct Reader {
  const Bytes* bytes;
  std::size_t pos = 0;
  static int read(void* opaque, std::uint8_t* buf, int size) {
    auto& self = *static_cast<Reader*>(opaque);
    const auto n = std::min(static_cast<std::size_t>(size), self.bytes->size() - self.pos);
    if (n == 0) return AVERROR_EOF;
    std::memcpy(buf, self.bytes->data() + self.pos, n);
    self.pos += n;
    return static_cast<int>(n);
  }
  static std::int64_t seek(void* opaque, std::int64_t offset, int whence) {
    auto& self = *static_cast<Reader*>(opaque);
    if ((whence & AVSEEK_SIZE) != 0) return static_cast<std::int64_t>(self.bytes->size());
    const std::int64_t base = (whence & 3) == SEEK_CUR   ? static_cast<std::int64_t>(self.pos)
                              : (whence & 3) == SEEK_END ? static_cast<std::int64_t>(self.bytes->size())
                                                         : 0;
    const std::int64_t target = base + offset;
    if (target < 0 || target > static_cast<std::int64_t>(self.bytes->size())) return AVERROR(EINVAL);
    self.pos = static_cast<std::size_t>(target);
    return target;
  }
};

// Demuxes an MP4 held in memory with libavformat's mov demuxer.
std::vector<Track> demux_mp4(const Bytes& mp4) {
  std::vector<Track> tracks;
  Reader reader{&mp4};
  constexpr int kBuffer = 32 * 1024;
  auto* buffer = static_cast<unsigned char*>(av_malloc(kBuffer));
  ff::IoContextPtr io(avio_alloc_context(buffer, kBuffer, 0, &reader, &Reader::read, nullptr, &Reader::seek));
  AVFormatContext* raw = avformat_alloc_context();
  raw->pb = io.get();
  raw->flags |= AVFMT_FLAG_CUSTOM_IO;
  const int rc = avformat_open_input(&raw, nullptr, av_find_input_format("mp4"), nullptr);
  EXPECT_GE(rc, 0) << "the MP4 does not open";
  if (rc < 0) return tracks;
  ff::InputContextPtr input(raw);
  for (unsigned i = 0; i < input->nb_streams; ++i) {
    Track t;
    t.codec = input->streams[i]->codecpar->codec_id;
    t.tag = input->streams[i]->codecpar->codec_tag;
    t.time_base = input->streams[i]->time_base;
    tracks.push_back(t);
  }
  ff::PacketPtr packet(av_packet_alloc());
  while (av_read_frame(input.get(), packet.get()) >= 0) {
    Sample s;
    s.pts = packet->pts;
    s.dts = packet->dts;
    s.duration = packet->duration;
    s.key = (packet->flags & AV_PKT_FLAG_KEY) != 0;
    s.data.assign(packet->data, packet->data + packet->size);
    tracks[static_cast<std::size_t>(packet->stream_index)].samples.push_back(std::move(s));
    av_packet_unref(packet.get());
  }
  return tracks;
}

std::int64_t to_ms(std::int64_t ts, AVRational tb) { return av_rescale_q(ts, tb, AVRational{1, 1000}); }

ClipResult expect_clip(const std::variant<ClipResult, ClipError>& result) {
  if (const auto* err = std::get_if<ClipError>(&result)) {
    ADD_FAILURE() << "clip failed: " << static_cast<int>(err->code) << " " << err->message;
    return {};
  }
  return std::get<ClipResult>(result);
}

ClipErrc expect_error(const std::variant<ClipResult, ClipError>& result) {
  const auto* err = std::get_if<ClipError>(&result);
  EXPECT_NE(err, nullptr) << "expected an error";
  return err != nullptr ? err->code : ClipErrc::internal;
}

// Every sample of `track` equals the matching frame: payload bytes, key flag, and time (ms) from
// the first video frame; durations are the gaps between frames (last: `last_duration_ms`).
void expect_samples_match(const Track& track, const std::vector<Frame>& frames, std::int64_t start_ms,
                          std::optional<std::int64_t> last_duration_ms, bool check_keys) {
  ASSERT_EQ(track.samples.size(), frames.size());
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const Sample& s = track.samples[i];
    SCOPED_TRACE("sample " + std::to_string(i));
    EXPECT_EQ(to_ms(s.pts, track.time_base), frames[i].timecode - start_ms);
    EXPECT_EQ(s.pts, s.dts);
    if (check_keys) {
      EXPECT_EQ(s.key, frames[i].key);
    }
    EXPECT_TRUE(s.data == frames[i].payload) << "payload differs";
    if (i + 1 < frames.size()) {
      EXPECT_EQ(to_ms(s.pts + s.duration, track.time_base), frames[i + 1].timecode - start_ms);
    } else if (last_duration_ms) {
      EXPECT_EQ(to_ms(s.duration, track.time_base), *last_duration_ms);
    }
  }
}

void expect_layout(const Bytes& mp4) {
  const auto boxes = top_level_boxes(mp4);
  ASSERT_GE(boxes.size(), 3u);
  EXPECT_EQ(boxes.front(), "ftyp");
  const auto moov = std::find(boxes.begin(), boxes.end(), "moov");
  const auto mdat = std::find(boxes.begin(), boxes.end(), "mdat");
  ASSERT_NE(moov, boxes.end());
  ASSERT_NE(mdat, boxes.end());
  EXPECT_LT(moov, mdat) << "moov must precede mdat";
  EXPECT_EQ(std::count(boxes.begin(), boxes.end(), "moov"), 1);
  EXPECT_EQ(std::count(boxes.begin(), boxes.end(), "moof"), 0) << "not a fragmented MP4";
}

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

TEST(Mp4ClipTest, UnknownSizeSegmentHeaderRewritesOnlyTheSizeField) {
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

// ---- Errors -----------------------------------------------------------------------------------------

// A synthetic stream built with the SDK-layout writer: the capture's avcC, `frames` key frames.
struct Synthetic {
  Bytes header;
  std::vector<Bytes> clusters;
};

Synthetic synthetic(std::vector<MkvTrackSpec> tracks, const std::vector<Bytes>& video_frames) {
  Synthetic s;
  s.header = write_mkv_header(MkvSegmentSpec{}, tracks);
  Bytes cluster = write_cluster_start(5000);
  std::int16_t tc = 0;
  for (const auto& frame : video_frames) {
    append_simple_block(cluster, 1, tc, tc == 0, frame);
    tc = static_cast<std::int16_t>(tc + 40);
  }
  s.clusters.push_back(std::move(cluster));
  return s;
}

MkvTrackSpec video_track(const Bytes& codec_private, std::string codec_id = "V_MPEG4/ISO/AVC") {
  MkvTrackSpec t;
  t.codec_id = std::move(codec_id);
  t.codec_private = codec_private;
  t.pixel_width = 640;
  t.pixel_height = 480;
  return t;
}

struct CaptureFrames {
  Bytes avcc;
  std::vector<Bytes> frames;  // first is a key frame
};

CaptureFrames first_capture_frames(std::size_t count) {
  const Capture c = load_capture("realtime-h264/04-putMedia-full.mkv");
  CaptureFrames out;
  out.avcc = c.tracks.at(0).codec_private;
  for (auto& f : cluster_frames(c.clusters.at(0))) {
    if (out.frames.size() < count) out.frames.push_back(std::move(f.payload));
  }
  return out;
}

std::variant<ClipResult, ClipError> build(const Synthetic& s) {
  const auto in = spans(s.clusters);
  return build_mp4_clip(s.header, in);
}

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
  EXPECT_EQ(expect_error(build(synthetic({video_track(cf.avcc, "V_VP8")}, cf.frames))), ClipErrc::unsupported_media);
  // The documentation's spelling is not what producers send, and not accepted either.
  EXPECT_EQ(expect_error(build(synthetic({video_track(cf.avcc, "V_MPEG/ISO/AVC")}, cf.frames))),
            ClipErrc::unsupported_media);
  // H.264 + an audio codec other than AAC.
  MkvTrackSpec opus;
  opus.number = 2;
  opus.uid = 2;
  opus.type = MkvTrackType::audio;
  opus.codec_id = "A_OPUS";
  opus.codec_private = Bytes{1, 2, 3};
  opus.sampling_frequency = 48000;
  opus.channels = 2;
  EXPECT_EQ(expect_error(build(synthetic({video_track(cf.avcc), opus}, cf.frames))), ClipErrc::unsupported_media);
  // No video at all: the audio-only capture.
  const Capture audio_only = load_capture("audio-only-relative/04-putMedia-full.mkv");
  const auto in = spans(audio_only.clusters, 0, 2);
  EXPECT_EQ(expect_error(build_mp4_clip(audio_only.header, in)), ClipErrc::unsupported_media);
  // Not a Matroska header.
  const Bytes garbage(64, 0x42);
  EXPECT_EQ(expect_error(build_mp4_clip(garbage, in)), ClipErrc::unsupported_media);
}

TEST(Mp4ClipTest, MissingCodecPrivate) {
  const auto cf = first_capture_frames(2);
  EXPECT_EQ(expect_error(build(synthetic({video_track(Bytes{})}, cf.frames))), ClipErrc::missing_codec_private);
  MkvTrackSpec aac;
  aac.number = 2;
  aac.uid = 2;
  aac.type = MkvTrackType::audio;
  aac.codec_id = "A_AAC";
  aac.sampling_frequency = 48000;
  aac.channels = 2;
  EXPECT_EQ(expect_error(build(synthetic({video_track(cf.avcc), aac}, cf.frames))), ClipErrc::missing_codec_private);
}

TEST(Mp4ClipTest, InvalidCodecPrivate) {
  const auto cf = first_capture_frames(2);
  const auto invalid = [&](const Bytes& cpd, const char* codec = "V_MPEG4/ISO/AVC") {
    return expect_error(build(synthetic({video_track(cpd, codec)}, cf.frames)));
  };
  EXPECT_EQ(invalid(Bytes{0xDE, 0xAD, 0xBE, 0xEF, 0x00, 0x11, 0x22, 0x33}), ClipErrc::invalid_codec_private);
  Bytes wrong_version = cf.avcc;
  wrong_version[0] = 2;
  EXPECT_EQ(invalid(wrong_version), ClipErrc::invalid_codec_private);
  const Bytes truncated(cf.avcc.begin(), cf.avcc.begin() + 12);
  EXPECT_EQ(invalid(truncated), ClipErrc::invalid_codec_private);
  EXPECT_EQ(invalid(Bytes(cf.avcc.begin(), cf.avcc.begin() + 6)), ClipErrc::invalid_codec_private);
  // An avcC is not an hvcC.
  EXPECT_EQ(invalid(cf.avcc, "V_MPEGH/ISO/HEVC"), ClipErrc::invalid_codec_private);
}

TEST(Mp4ClipTest, InvalidMediaFrame) {
  const auto cf = first_capture_frames(3);
  std::vector<Bytes> frames = cf.frames;
  // Neither length-prefixed (the length overruns the frame) nor Annex-B.
  frames[1] = Bytes{0x7F, 0xFF, 0xFF, 0xFF, 0x41, 0x9A, 0x00};
  EXPECT_EQ(expect_error(build(synthetic({video_track(cf.avcc)}, frames))), ClipErrc::invalid_media_frame);
  frames[1] = Bytes{};
  EXPECT_EQ(expect_error(build(synthetic({video_track(cf.avcc)}, frames))), ClipErrc::invalid_media_frame);
  // A cluster without any video frame.
  const Synthetic empty = synthetic({video_track(cf.avcc)}, {});
  EXPECT_EQ(expect_error(build(empty)), ClipErrc::invalid_media_frame);
}

struct Block {
  std::uint8_t track;
  std::int16_t timecode;
  bool key;
  Bytes payload;
};

std::variant<ClipResult, ClipError> build_blocks(const std::vector<MkvTrackSpec>& tracks,
                                                 const std::vector<Block>& blocks) {
  Synthetic s;
  s.header = write_mkv_header(MkvSegmentSpec{}, tracks);
  Bytes cluster = write_cluster_start(5000);
  for (const auto& b : blocks) append_simple_block(cluster, b.track, b.timecode, b.key, b.payload);
  s.clusters.push_back(std::move(cluster));
  return build(s);
}

TEST(Mp4ClipTest, InvalidBlocksAndTimestamps) {
  const auto cf = first_capture_frames(3);
  const std::vector<MkvTrackSpec> tracks{video_track(cf.avcc)};
  // A block for a track the header does not declare (the demuxer would drop it silently).
  EXPECT_EQ(expect_error(build_blocks(tracks, {{1, 0, true, cf.frames[0]}, {7, 10, true, cf.frames[1]}})),
            ClipErrc::invalid_media_frame);
  // Video timestamps that repeat.
  EXPECT_EQ(expect_error(build_blocks(
                tracks, {{1, 0, true, cf.frames[0]}, {1, 40, false, cf.frames[1]}, {1, 40, false, cf.frames[2]}})),
            ClipErrc::invalid_media_frame);
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

TEST(Mp4ClipTest, CountsClusterFrames) {
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

// ---- Helpers ----------------------------------------------------------------------------------------

TEST(Mp4ClipNalFramingTest, CaptureRecordsAndFraming) {
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

TEST(Mp4ClipLayoutTest, MovesMoovAndShiftsChunkOffsets) {
  // ftyp | mdat(4 bytes) | moov > trak > mdia > minf > stbl > stco(1 entry: 24, mdat's payload)
  auto box = [](const char* type, const Bytes& body) {
    Bytes out;
    const auto size = static_cast<std::uint32_t>(body.size() + 8);
    out = {static_cast<std::uint8_t>(size >> 24), static_cast<std::uint8_t>(size >> 16),
           static_cast<std::uint8_t>(size >> 8), static_cast<std::uint8_t>(size)};
    out.insert(out.end(), type, type + 4);
    out.insert(out.end(), body.begin(), body.end());
    return out;
  };
  const Bytes stco = box("stco", Bytes{0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 24});
  const Bytes moov = box("moov", box("trak", box("mdia", box("minf", box("stbl", stco)))));
  const Bytes ftyp = box("ftyp", Bytes{'i', 's', 'o', 'm', 0, 0, 2, 0});
  const Bytes mdat = box("mdat", Bytes{1, 2, 3, 4});
  const Bytes file = testing::cat({ftyp, mdat, moov});
  const auto moved = move_moov_before_mdat(file);
  ASSERT_TRUE(moved);
  ASSERT_EQ(moved->size(), file.size());
  EXPECT_EQ(top_level_boxes(*moved), (std::vector<std::string>{"ftyp", "moov", "mdat"}));
  // The chunk offset moved by the moov's size, to where mdat's payload now is.
  const std::size_t entry = ftyp.size() + moov.size() - 4;
  const std::uint32_t offset = (std::uint32_t{(*moved)[entry]} << 24) | ((*moved)[entry + 1] << 16) |
                               ((*moved)[entry + 2] << 8) | (*moved)[entry + 3];
  EXPECT_EQ(offset, 24 + moov.size());
  EXPECT_EQ((*moved)[offset], 1);
  EXPECT_EQ(move_moov_before_mdat(*moved), moved) << "already in front: unchanged";
  EXPECT_FALSE(move_moov_before_mdat(testing::cat({ftyp, mdat})));
  Bytes broken = file;
  broken.pop_back();
  EXPECT_FALSE(move_moov_before_mdat(broken));
}

}  // namespace
}  // namespace kvsd::media
