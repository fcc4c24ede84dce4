#pragma once
// Test inputs for the imaging library: short H.264 streams encoded in the test with libx264, where
// frame i is a flat grey of a known level (so a decoded image tells which frame it shows), wrapped
// in the SDK's Matroska layout (media::mkv_writer), and decoders for the JPEG/PNG outputs.

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "av/ffmpeg_ptr.hpp"
#include "media/mkv_writer.hpp"

extern "C" {
#include <libavutil/opt.h>
}

namespace kvsd::av::testing {

using Bytes = std::vector<std::uint8_t>;

inline constexpr int kFrameMs = 40;

// The limited-range luma of frame i.
inline int frame_level(int i) { return 30 + 8 * i; }

struct Stream {
  Bytes header;   // EBML + Segment + Info + Tracks (track 1 video)
  Bytes cluster;  // one Cluster, timecode 0, the frames in decode order at i * kFrameMs
  int frames = 0;
  int width = 0, height = 0;
  std::vector<std::int64_t> block_pts;  // relative timecodes in stored order
};

struct StreamSpec {
  int frames = 12;
  int width = 64, height = 48;
  int b_frames = 0;
  enum class Framing { avcc, annex_b_frames_avcc, annex_b_in_band } framing = Framing::avcc;
  int first_pts_ms = 0;  // relative timecode of the first frame
};

// Annex-B NAL units (without start codes) of `data`.
inline std::vector<Bytes> split_annex_b(const std::uint8_t* data, std::size_t size) {
  std::vector<Bytes> nals;
  std::size_t i = 0, start = SIZE_MAX;
  while (i + 3 <= size) {
    if (data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1) {
      if (start != SIZE_MAX) {
        std::size_t end = i;
        while (end > start && data[end - 1] == 0) --end;
        nals.emplace_back(data + start, data + end);
      }
      i += 3;
      start = i;
    } else {
      ++i;
    }
  }
  if (start != SIZE_MAX && start < size) nals.emplace_back(data + start, data + size);
  return nals;
}

inline Bytes length_prefixed(const std::vector<Bytes>& nals) {
  Bytes out;
  for (const auto& n : nals) {
    const auto s = static_cast<std::uint32_t>(n.size());
    out.insert(out.end(), {static_cast<std::uint8_t>(s >> 24), static_cast<std::uint8_t>(s >> 16),
                           static_cast<std::uint8_t>(s >> 8), static_cast<std::uint8_t>(s)});
    out.insert(out.end(), n.begin(), n.end());
  }
  return out;
}

inline Bytes avcc_from(const std::vector<Bytes>& nals) {
  Bytes sps, pps;
  for (const auto& n : nals) {
    if ((n[0] & 0x1F) == 7) sps = n;
    if ((n[0] & 0x1F) == 8) pps = n;
  }
  EXPECT_FALSE(sps.empty());
  EXPECT_FALSE(pps.empty());
  if (sps.size() < 4 || pps.empty()) return {};
  Bytes out{1, sps[1], sps[2], sps[3], 0xFF, 0xE1};
  out.push_back(static_cast<std::uint8_t>(sps.size() >> 8));
  out.push_back(static_cast<std::uint8_t>(sps.size()));
  out.insert(out.end(), sps.begin(), sps.end());
  out.push_back(1);
  out.push_back(static_cast<std::uint8_t>(pps.size() >> 8));
  out.push_back(static_cast<std::uint8_t>(pps.size()));
  out.insert(out.end(), pps.begin(), pps.end());
  return out;
}

inline Stream encode_h264(const StreamSpec& spec) {
  Stream s;
  s.frames = spec.frames;
  s.width = spec.width;
  s.height = spec.height;
  const AVCodec* codec = avcodec_find_encoder_by_name("libx264");
  EXPECT_NE(codec, nullptr) << "libx264 is not available";
  if (codec == nullptr) return s;
  ff::CodecContextPtr enc(avcodec_alloc_context3(codec));
  enc->width = spec.width;
  enc->height = spec.height;
  enc->pix_fmt = AV_PIX_FMT_YUV420P;
  enc->time_base = AVRational{1, 1000};
  enc->framerate = AVRational{1000, kFrameMs};
  enc->gop_size = spec.frames;
  enc->max_b_frames = spec.b_frames;
  enc->thread_count = 1;
  enc->log_level_offset = ff::kQuietLogOffset;
  const bool global = spec.framing != StreamSpec::Framing::annex_b_in_band;
  if (global) enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  av_opt_set(enc->priv_data, "preset", spec.b_frames > 0 ? "veryfast" : "ultrafast", 0);
  av_opt_set(enc->priv_data, "qp", "8", 0);
  av_opt_set(enc->priv_data, "x264-params", "scenecut=0:keyint_min=1000", 0);
  EXPECT_GE(avcodec_open2(enc.get(), codec, nullptr), 0);

  Bytes codec_private;
  if (global) codec_private = avcc_from(split_annex_b(enc->extradata, static_cast<std::size_t>(enc->extradata_size)));
  media::MkvTrackSpec track;
  track.codec_private = codec_private;
  track.pixel_width = static_cast<std::uint16_t>(spec.width);
  track.pixel_height = static_cast<std::uint16_t>(spec.height);
  s.header = media::write_mkv_header(media::MkvSegmentSpec{}, std::span<const media::MkvTrackSpec>(&track, 1));
  s.cluster = media::write_cluster_start(0);

  ff::FramePtr frame(av_frame_alloc());
  frame->format = AV_PIX_FMT_YUV420P;
  frame->width = spec.width;
  frame->height = spec.height;
  EXPECT_GE(av_frame_get_buffer(frame.get(), 0), 0);
  av::ff::PacketPtr pkt(av_packet_alloc());
  auto take = [&] {
    while (avcodec_receive_packet(enc.get(), pkt.get()) == 0) {
      Bytes payload;
      if (spec.framing == StreamSpec::Framing::avcc)
        payload = length_prefixed(split_annex_b(pkt->data, static_cast<std::size_t>(pkt->size)));
      else
        payload.assign(pkt->data, pkt->data + pkt->size);
      const auto rel = static_cast<std::int16_t>(pkt->pts + spec.first_pts_ms);
      s.block_pts.push_back(rel);
      media::append_simple_block(s.cluster, 1, rel, (pkt->flags & AV_PKT_FLAG_KEY) != 0, payload);
      av_packet_unref(pkt.get());
    }
  };
  for (int i = 0; i < spec.frames; ++i) {
    EXPECT_GE(av_frame_make_writable(frame.get()), 0);
    for (int y = 0; y < spec.height; ++y)
      std::memset(frame->data[0] + y * frame->linesize[0], frame_level(i), spec.width);
    for (int p = 1; p < 3; ++p)
      for (int y = 0; y < spec.height / 2; ++y)
        std::memset(frame->data[p] + y * frame->linesize[p], 128, spec.width / 2);
    frame->pts = i * kFrameMs;
    EXPECT_GE(avcodec_send_frame(enc.get(), frame.get()), 0);
    take();
  }
  avcodec_send_frame(enc.get(), nullptr);
  take();
  return s;
}

struct Picture {
  int width = 0, height = 0;
  AVPixelFormat format = AV_PIX_FMT_NONE;
  double mean_luma = 0;  // mean of plane 0 (RGB: mean of all components)
};

// Decodes one JPEG or PNG image with FFmpeg's decoders.
inline std::optional<Picture> decode_image(const Bytes& bytes, AVCodecID id) {
  const AVCodec* codec = avcodec_find_decoder(id);
  ff::CodecContextPtr dec(avcodec_alloc_context3(codec));
  if (avcodec_open2(dec.get(), codec, nullptr) < 0) return std::nullopt;
  av::ff::PacketPtr pkt(av_packet_alloc());
  if (av_new_packet(pkt.get(), static_cast<int>(bytes.size())) < 0) return std::nullopt;
  std::memcpy(pkt->data, bytes.data(), bytes.size());
  if (avcodec_send_packet(dec.get(), pkt.get()) < 0) return std::nullopt;
  ff::FramePtr f(av_frame_alloc());
  if (avcodec_receive_frame(dec.get(), f.get()) < 0) return std::nullopt;
  Picture p;
  p.width = f->width;
  p.height = f->height;
  p.format = static_cast<AVPixelFormat>(f->format);
  const int row = f->format == AV_PIX_FMT_RGB24 ? f->width * 3 : f->width;
  double sum = 0;
  for (int y = 0; y < f->height; ++y)
    for (int x = 0; x < row; ++x) sum += f->data[0][y * f->linesize[0] + x];
  p.mean_luma = sum / (static_cast<double>(row) * f->height);
  return p;
}

// Which frame a decoded image shows: the frame whose full-range grey is nearest to its mean.
inline int frame_index_of(const Picture& p, int frames) {
  int best = -1;
  double best_d = 1e9;
  for (int i = 0; i < frames; ++i) {
    const double full = (frame_level(i) - 16) * 255.0 / 219.0;
    const double d = std::abs(full - p.mean_luma);
    if (d < best_d) {
      best_d = d;
      best = i;
    }
  }
  return best_d < 3.0 ? best : -1;
}

}  // namespace kvsd::av::testing
