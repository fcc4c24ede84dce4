#pragma once
// Test helpers for the MP4 writers (fMP4 segments here, GetClip's MP4 in tests/unit/av): SDK
// captures split into header + clusters, an independent walk of Cluster bytes into frames,
// synthetic streams from the SDK-layout writer, and a read-back of an MP4 held in memory by
// libavformat's mov demuxer (FFmpeg as an independent reader, not the code under test).

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "media/ebml_reader.hpp"
#include "media/hls_segments.hpp"
#include "media/mkv_writer.hpp"
#include "mkv_test_support.hpp"

extern "C" {
#include <libavformat/avformat.h>
#include <libavformat/avio.h>
#include <libavutil/mem.h>
}

namespace kvsd::media::testing {

// Owners of the demuxer's FFmpeg objects (media does not link av's owning types).
namespace probe {
struct IoFree {
  void operator()(AVIOContext* io) const noexcept {
    if (io == nullptr) return;
    av_freep(&io->buffer);
    avio_context_free(&io);
  }
};
struct InputClose {
  void operator()(AVFormatContext* f) const noexcept { avformat_close_input(&f); }
};
struct PacketFree {
  void operator()(AVPacket* p) const noexcept { av_packet_free(&p); }
};
}  // namespace probe

// ---- Inputs -----------------------------------------------------------------------------------

struct Capture {
  Bytes header;
  std::vector<Bytes> clusters;
  std::vector<TrackInfo> tracks;
};

inline Capture load_capture(const std::string& relative) {
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

inline std::vector<std::span<const std::uint8_t>> spans(const std::vector<Bytes>& clusters, std::size_t from = 0,
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

inline void read_block(std::span<const std::uint8_t> block, std::int64_t cluster_tc, bool simple,
                       std::vector<Frame>& out) {
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

inline std::vector<Frame> cluster_frames(std::span<const std::uint8_t> cluster) {
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

inline std::vector<Frame> all_frames(std::span<const std::span<const std::uint8_t>> clusters, std::uint64_t track) {
  std::vector<Frame> out;
  for (const auto cluster : clusters) {
    for (auto& f : cluster_frames(cluster)) {
      if (f.track == track) out.push_back(std::move(f));
    }
  }
  return out;
}

// ---- Reading the MP4 back -----------------------------------------------------------------------

inline std::vector<std::string> top_level_boxes(const Bytes& mp4) {
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

// Demuxes `bytes` held in memory with libavformat's demuxer `format` ("mp4", "mpegts"): calls
// `on_open` once with the opened input (stream info found when `find_info`), then `on_packet`
// for every packet in file order. False (and a test failure) when the input does not open.
inline bool demux(const Bytes& bytes, const char* format, bool find_info,
                  const std::function<void(const AVFormatContext&)>& on_open,
                  const std::function<void(const AVPacket&)>& on_packet) {
  Reader reader{&bytes};
  constexpr int kBuffer = 32 * 1024;
  auto* buffer = static_cast<unsigned char*>(av_malloc(kBuffer));
  std::unique_ptr<AVIOContext, probe::IoFree> io(
      avio_alloc_context(buffer, kBuffer, 0, &reader, &Reader::read, nullptr, &Reader::seek));
  AVFormatContext* raw = avformat_alloc_context();
  raw->pb = io.get();
  raw->flags |= AVFMT_FLAG_CUSTOM_IO;
  const int rc = avformat_open_input(&raw, nullptr, av_find_input_format(format), nullptr);
  EXPECT_GE(rc, 0) << "the " << format << " input does not open";
  if (rc < 0) return false;
  std::unique_ptr<AVFormatContext, probe::InputClose> input(raw);
  if (find_info) {
    EXPECT_GE(avformat_find_stream_info(input.get(), nullptr), 0);
  }
  on_open(*input);
  std::unique_ptr<AVPacket, probe::PacketFree> packet(av_packet_alloc());
  while (av_read_frame(input.get(), packet.get()) >= 0) {
    on_packet(*packet);
    av_packet_unref(packet.get());
  }
  return true;
}

// Demuxes an MP4 held in memory with libavformat's mov demuxer.
inline std::vector<Track> demux_mp4(const Bytes& mp4) {
  std::vector<Track> tracks;
  demux(
      mp4, "mp4", false,
      [&tracks](const AVFormatContext& input) {
        for (unsigned i = 0; i < input.nb_streams; ++i) {
          Track t;
          t.codec = input.streams[i]->codecpar->codec_id;
          t.tag = input.streams[i]->codecpar->codec_tag;
          t.time_base = input.streams[i]->time_base;
          tracks.push_back(t);
        }
      },
      [&tracks](const AVPacket& packet) {
        Sample s;
        s.pts = packet.pts;
        s.dts = packet.dts;
        s.duration = packet.duration;
        s.key = (packet.flags & AV_PKT_FLAG_KEY) != 0;
        s.data.assign(packet.data, packet.data + packet.size);
        tracks[static_cast<std::size_t>(packet.stream_index)].samples.push_back(std::move(s));
      });
  return tracks;
}

inline std::int64_t to_ms(std::int64_t ts, AVRational tb) { return av_rescale_q(ts, tb, AVRational{1, 1000}); }

// Every sample of `track` equals the matching frame: payload bytes, key flag, and time (ms) from
// the first video frame; durations are the gaps between frames (last: `last_duration_ms`).
inline void expect_samples_match(const Track& track, const std::vector<Frame>& frames, std::int64_t start_ms,
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

inline void expect_layout(const Bytes& mp4) {
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

// ---- Errors -----------------------------------------------------------------------------------------

// A synthetic stream built with the SDK-layout writer: the capture's avcC, `frames` key frames.
struct Synthetic {
  Bytes header;
  std::vector<Bytes> clusters;
};

inline Synthetic synthetic(std::vector<MkvTrackSpec> tracks, const std::vector<Bytes>& video_frames) {
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

inline MkvTrackSpec video_track(const Bytes& codec_private, std::string codec_id = "V_MPEG4/ISO/AVC") {
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

inline CaptureFrames first_capture_frames(std::size_t count) {
  const Capture c = load_capture("realtime-h264/04-putMedia-full.mkv");
  CaptureFrames out;
  out.avcc = c.tracks.at(0).codec_private;
  for (auto& f : cluster_frames(c.clusters.at(0))) {
    if (out.frames.size() < count) out.frames.push_back(std::move(f.payload));
  }
  return out;
}

// ---- Segment results ---------------------------------------------------------------------------

template <typename T>
inline T expect_value(const std::variant<T, MediaError>& result) {
  if (const auto* err = std::get_if<MediaError>(&result)) {
    ADD_FAILURE() << "failed: " << static_cast<int>(err->code) << " " << err->message;
    return T{};
  }
  return std::get<T>(result);
}

template <typename T>
inline MediaErrc expect_failure(const std::variant<T, MediaError>& result) {
  const auto* err = std::get_if<MediaError>(&result);
  EXPECT_NE(err, nullptr) << "expected an error";
  return err != nullptr ? err->code : MediaErrc::internal;
}

inline std::int64_t cluster_timecode(std::span<const std::uint8_t> cluster) {
  ebml::ElementHeader h;
  EXPECT_EQ(ebml::decode_header(cluster, h), ebml::ReadStatus::complete);
  ebml::ChildIterator it(h.unknown_size ? cluster.subspan(h.length) : cluster.subspan(h.length, h.size));
  std::span<const std::uint8_t> child;
  while (it.next(h, child) == ebml::ChildIterator::Next::child) {
    if (h.id == 0xE7) return *ebml::read_int(child);
  }
  ADD_FAILURE() << "no Cluster Timecode";
  return 0;
}

inline Bytes header_of(const std::vector<MkvTrackSpec>& tracks) { return write_mkv_header(MkvSegmentSpec{}, tracks); }

}  // namespace kvsd::media::testing
