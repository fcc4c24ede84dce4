#include "pattern_source.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <optional>

extern "C" {
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
}

#include "ffmpeg_ptr.hpp"
#include "nal_convert.hpp"

namespace kvsput {
namespace {

using kvsd::media::MkvTrackSpec;
using kvsd::media::MkvTrackType;

constexpr int kWidth = 640;
constexpr int kHeight = 360;
constexpr int kFps = 25;
constexpr int kGop = 25;
constexpr int kSampleRate = 48000;

// Seven-segment masks for 0-9 (bits: a b c d e f g).
constexpr std::uint8_t kSegments[10] = {0x7E, 0x30, 0x6D, 0x79, 0x33, 0x5B, 0x5F, 0x70, 0x7F, 0x7B};

// A grey-level rectangle (luma y, neutral chroma), clipped to the picture.
void fill_rect(AVFrame* f, int x0, int y0, int w, int h, std::uint8_t y) {
  const int x_begin = std::max(0, x0), x_end = std::min(kWidth, x0 + w);
  const int y_begin = std::max(0, y0), y_end = std::min(kHeight, y0 + h);
  if (x_begin >= x_end || y_begin >= y_end) return;
  for (int yy = y_begin; yy < y_end; ++yy) {
    std::uint8_t* row = f->data[0] + static_cast<std::ptrdiff_t>(yy) * f->linesize[0];
    std::fill(row + x_begin, row + x_end, y);
  }
  for (int yy = y_begin / 2; yy < (y_end + 1) / 2; ++yy) {
    for (int plane = 1; plane <= 2; ++plane) {
      std::uint8_t* row = f->data[plane] + static_cast<std::ptrdiff_t>(yy) * f->linesize[plane];
      std::fill(row + x_begin / 2, row + (x_end + 1) / 2, std::uint8_t{128});
    }
  }
}

void draw_digit(AVFrame* f, int x, int y, int digit) {
  constexpr int kW = 30, kH = 56, kT = 6;
  const std::uint8_t m = kSegments[digit];
  if (m & 0x40) fill_rect(f, x, y, kW, kT, 235);                         // a
  if (m & 0x20) fill_rect(f, x + kW - kT, y, kT, kH / 2, 235);           // b
  if (m & 0x10) fill_rect(f, x + kW - kT, y + kH / 2, kT, kH / 2, 235);  // c
  if (m & 0x08) fill_rect(f, x, y + kH - kT, kW, kT, 235);               // d
  if (m & 0x04) fill_rect(f, x, y + kH / 2, kT, kH / 2, 235);            // e
  if (m & 0x02) fill_rect(f, x, y, kT, kH / 2, 235);                     // f
  if (m & 0x01) fill_rect(f, x, y + kH / 2 - kT / 2, kW, kT, 235);       // g
}

// Scrolling colour bars, a bouncing white band and the frame number.
void draw_pattern(AVFrame* f, int index) {
  static constexpr std::uint8_t kBarY[8] = {235, 210, 170, 145, 106, 81, 41, 16};
  static constexpr std::uint8_t kBarU[8] = {128, 16, 166, 54, 202, 90, 240, 128};
  static constexpr std::uint8_t kBarV[8] = {128, 146, 16, 34, 222, 240, 110, 128};
  const int shift = index * 8;
  for (int y = 0; y < kHeight; ++y) {
    std::uint8_t* row = f->data[0] + static_cast<std::ptrdiff_t>(y) * f->linesize[0];
    for (int x = 0; x < kWidth; ++x) row[x] = kBarY[((x + shift) / 80) % 8];
  }
  for (int y = 0; y < kHeight / 2; ++y) {
    std::uint8_t* u = f->data[1] + static_cast<std::ptrdiff_t>(y) * f->linesize[1];
    std::uint8_t* v = f->data[2] + static_cast<std::ptrdiff_t>(y) * f->linesize[2];
    for (int x = 0; x < kWidth / 2; ++x) {
      const int bar = ((2 * x + shift) / 80) % 8;
      u[x] = kBarU[bar];
      v[x] = kBarV[bar];
    }
  }
  const int period = 2 * (kHeight - 20);
  const int pos = (index * 6) % period;
  fill_rect(f, 0, pos < kHeight - 20 ? pos : period - pos, kWidth, 20, 235);
  fill_rect(f, 10, 10, 8 * 38 + 10, 76, 16);
  int n = index;
  for (int d = 7; d >= 0; --d) {
    draw_digit(f, 20 + d * 38, 20, n % 10);
    n /= 10;
  }
}

class PatternSource final : public MediaSource {
 public:
  PatternSource(double seconds, CodecPtr video, CodecPtr audio, SourceInfo info)
      : frames_(static_cast<int>(std::lround(seconds * kFps))),
        video_(std::move(video)),
        audio_(std::move(audio)),
        info_(std::move(info)) {}

  [[nodiscard]] const SourceInfo& info() const override { return info_; }

  void run(FrameStore& store) override {
    std::string error;
    FramePtr vf(av_frame_alloc());
    vf->format = AV_PIX_FMT_YUV420P;
    vf->width = kWidth;
    vf->height = kHeight;
    FramePtr af(av_frame_alloc());
    if (av_frame_get_buffer(vf.get(), 0) < 0) error = "cannot allocate a video frame";
    if (audio_ && error.empty()) {
      af->format = audio_->sample_fmt;
      af->nb_samples = audio_->frame_size;
      af->sample_rate = kSampleRate;
      av_channel_layout_copy(&af->ch_layout, &audio_->ch_layout);
      if (av_frame_get_buffer(af.get(), 0) < 0) error = "cannot allocate an audio frame";
    }
    std::int64_t samples = 0;
    for (int i = 0; i < frames_ && error.empty() && !store.cancelled(); ++i) {
      if (av_frame_make_writable(vf.get()) < 0) error = "video frame not writable";
      draw_pattern(vf.get(), i);
      vf->pts = i;
      vf->pict_type = i % kGop == 0 ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;
      if (error.empty()) error = encode(video_.get(), vf.get(), true);
      // Audio up to the end of this video frame.
      const std::int64_t until = static_cast<std::int64_t>(i + 1) * kSampleRate / kFps;
      while (audio_ && error.empty() && samples < until) {
        if (av_frame_make_writable(af.get()) < 0) error = "audio frame not writable";
        for (int s = 0; s < af->nb_samples; ++s) {
          const double t = static_cast<double>(samples + s) / kSampleRate;
          const auto value = static_cast<float>(0.2 * std::sin(2 * std::numbers::pi * 440.0 * t));
          for (int c = 0; c < af->ch_layout.nb_channels; ++c) reinterpret_cast<float*>(af->data[c])[s] = value;
        }
        af->pts = samples;
        samples += af->nb_samples;
        error = encode(audio_.get(), af.get(), false);
      }
      if (i % kFps == kFps - 1) release(store, static_cast<std::int64_t>(i) * 1000 / kFps - 200);
    }
    if (error.empty()) error = encode(video_.get(), nullptr, true);
    if (audio_ && error.empty()) error = encode(audio_.get(), nullptr, false);
    release(store, INT64_MAX);
    store.finish(std::move(error));
  }

 private:
  // Sends one frame (null: flush) and collects the packets it yields.
  std::string encode(AVCodecContext* ctx, const AVFrame* frame, bool video) {
    if (int rc = avcodec_send_frame(ctx, frame); rc < 0) return "encoder: " + av_error(rc);
    PacketPtr pkt(av_packet_alloc());
    for (;;) {
      const int rc = avcodec_receive_packet(ctx, pkt.get());
      if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return {};
      if (rc < 0) return "encoder: " + av_error(rc);
      Frame f;
      f.video = video;
      f.track = video ? 1 : 2;
      f.key = !video || (pkt->flags & AV_PKT_FLAG_KEY) != 0;
      f.pts_ms = av_rescale_q(pkt->pts, ctx->time_base, AVRational{1, 1000});
      std::span<const std::uint8_t> data(pkt->data, static_cast<std::size_t>(pkt->size));
      if (video && video_annex_b_) {
        f.data = annex_b_to_length_prefixed(data);
      } else {
        f.data.assign(data.begin(), data.end());
      }
      pending_.push_back(std::move(f));
      av_packet_unref(pkt.get());
    }
  }

  // Pushes pending frames with pts <= watermark in timestamp order (video first on ties).
  void release(FrameStore& store, std::int64_t watermark) {
    std::stable_sort(pending_.begin(), pending_.end(), [](const Frame& a, const Frame& b) {
      return a.pts_ms != b.pts_ms ? a.pts_ms < b.pts_ms : (a.video && !b.video);
    });
    auto it = pending_.begin();
    for (; it != pending_.end() && it->pts_ms <= watermark; ++it) store.push(std::move(*it));
    pending_.erase(pending_.begin(), it);
  }

  int frames_;
  CodecPtr video_;
  CodecPtr audio_;
  SourceInfo info_;
  std::vector<Frame> pending_;
  bool video_annex_b_ = true;  // libx264 with global headers: Annex-B packets
};

}  // namespace

std::unique_ptr<MediaSource> open_pattern_source(double seconds, bool audio, std::string& error) {
  const AVCodec* x264 = avcodec_find_encoder_by_name("libx264");
  if (!x264) {
    error = "this FFmpeg has no libx264 encoder";
    return nullptr;
  }
  CodecPtr v(avcodec_alloc_context3(x264));
  v->width = kWidth;
  v->height = kHeight;
  v->time_base = AVRational{1, kFps};
  v->framerate = AVRational{kFps, 1};
  v->pix_fmt = AV_PIX_FMT_YUV420P;
  v->gop_size = kGop;
  v->keyint_min = kGop;
  v->max_b_frames = 0;
  v->bit_rate = 1'000'000;
  v->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  av_opt_set(v->priv_data, "preset", "ultrafast", 0);
  av_opt_set(v->priv_data, "tune", "zerolatency", 0);
  av_opt_set(v->priv_data, "x264-params", "scenecut=0:repeat-headers=0", 0);
  if (int rc = avcodec_open2(v.get(), x264, nullptr); rc < 0) {
    error = "libx264: " + av_error(rc);
    return nullptr;
  }
  SourceInfo info;
  info.has_video = true;
  MkvTrackSpec vt;
  vt.pixel_width = kWidth;
  vt.pixel_height = kHeight;
  std::span<const std::uint8_t> extra(v->extradata, static_cast<std::size_t>(v->extradata_size));
  if (auto avcc =
          is_annex_b(extra) ? avcc_from_annex_b(extra) : std::optional<Bytes>(Bytes(extra.begin(), extra.end()));
      avcc && !avcc->empty()) {
    vt.codec_private = std::move(*avcc);
  } else {
    error = "libx264 gave no SPS/PPS";
    return nullptr;
  }
  info.tracks.push_back(std::move(vt));
  info.media_type = "video/h264";

  CodecPtr a;
  if (audio) {
    const AVCodec* aac = avcodec_find_encoder_by_name("aac");
    if (!aac) {
      error = "this FFmpeg has no aac encoder";
      return nullptr;
    }
    a.reset(avcodec_alloc_context3(aac));
    a->sample_fmt = AV_SAMPLE_FMT_FLTP;
    a->sample_rate = kSampleRate;
    a->time_base = AVRational{1, kSampleRate};
    a->bit_rate = 128'000;
    a->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    const AVChannelLayout stereo = AV_CHANNEL_LAYOUT_STEREO;
    av_channel_layout_copy(&a->ch_layout, &stereo);
    if (int rc = avcodec_open2(a.get(), aac, nullptr); rc < 0) {
      error = "aac: " + av_error(rc);
      return nullptr;
    }
    MkvTrackSpec at;
    at.number = 2;
    at.uid = 2;
    at.type = MkvTrackType::audio;
    at.name = "kvs_audio_track";
    at.codec_id = "A_AAC";
    at.sampling_frequency = kSampleRate;
    at.channels = 2;
    at.codec_private.assign(a->extradata, a->extradata + a->extradata_size);
    info.tracks.push_back(std::move(at));
    info.media_type += ",audio/aac";
  }
  return std::make_unique<PatternSource>(seconds, std::move(v), std::move(a), std::move(info));
}

}  // namespace kvsput
