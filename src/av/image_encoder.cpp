#include "av/image_encoder.hpp"

#include <algorithm>
#include <cmath>

#include "av/ffmpeg_ptr.hpp"

extern "C" {
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
}

namespace kvsd::av {
namespace {

constexpr int kMaxQscale = 31;  // mjpeg's largest (worst) quantizer scale

// The non-deprecated twin of a full-range "J" format, and whether the source was full range.
AVPixelFormat plain_format(AVPixelFormat f, bool& full_range) {
  switch (f) {
    case AV_PIX_FMT_YUVJ420P:
      full_range = true;
      return AV_PIX_FMT_YUV420P;
    case AV_PIX_FMT_YUVJ422P:
      full_range = true;
      return AV_PIX_FMT_YUV422P;
    case AV_PIX_FMT_YUVJ444P:
      full_range = true;
      return AV_PIX_FMT_YUV444P;
    default:
      return f;
  }
}

}  // namespace

ImageEncoder::ImageEncoder(const ImageOptions& options) : options_(options) {}
ImageEncoder::~ImageEncoder() = default;

bool ImageEncoder::prepare(const AVFrame& frame) {
  if (sws_ && frame.width == src_width_ && frame.height == src_height_ && frame.format == src_format_) return true;
  sws_.reset();
  encoder_.reset();
  scaled_.reset();
  src_width_ = frame.width;
  src_height_ = frame.height;
  src_format_ = frame.format;

  const auto [width, height] = output_size(options_, frame.width, frame.height);
  const bool jpeg = options_.format == ImageFormat::jpeg;
  const AVPixelFormat dst_format = jpeg ? AV_PIX_FMT_YUV420P : AV_PIX_FMT_RGB24;
  bool src_full_range = frame.color_range == AVCOL_RANGE_JPEG;
  const AVPixelFormat src_format = plain_format(static_cast<AVPixelFormat>(frame.format), src_full_range);

  // Ranges are options of the context before init: JPEG takes full-range YUV (what yuvj420p
  // means), RGB is full range; set later, an unscaled same-format copy would ignore them.
  sws_.reset(sws_alloc_context());
  bool configured = static_cast<bool>(sws_);
  if (configured) {
    SwsContext* c = sws_.get();
    configured = av_opt_set_int(c, "srcw", frame.width, 0) >= 0 && av_opt_set_int(c, "srch", frame.height, 0) >= 0 &&
                 av_opt_set_int(c, "src_format", src_format, 0) >= 0 && av_opt_set_int(c, "dstw", width, 0) >= 0 &&
                 av_opt_set_int(c, "dsth", height, 0) >= 0 && av_opt_set_int(c, "dst_format", dst_format, 0) >= 0 &&
                 av_opt_set_int(c, "src_range", src_full_range ? 1 : 0, 0) >= 0 &&
                 av_opt_set_int(c, "dst_range", 1, 0) >= 0 && av_opt_set_int(c, "sws_flags", SWS_BICUBIC, 0) >= 0 &&
                 sws_init_context(c, nullptr, nullptr) >= 0;
  }
  if (!configured) {
    sws_.reset();
    error_ = std::string("cannot convert frames of format ") +
             (av_get_pix_fmt_name(src_format) ? av_get_pix_fmt_name(src_format) : "?");
    return false;
  }

  const AVCodec* codec = avcodec_find_encoder(jpeg ? AV_CODEC_ID_MJPEG : AV_CODEC_ID_PNG);
  if (codec == nullptr) {
    error_ = "FFmpeg has no image encoder";
    return false;
  }
  encoder_.reset(avcodec_alloc_context3(codec));
  scaled_.reset(av_frame_alloc());
  if (!encoder_ || !scaled_) {
    error_ = "out of memory";
    return false;
  }
  AVCodecContext& c = *encoder_;
  c.log_level_offset = ff::kQuietLogOffset;
  c.width = width;
  c.height = height;
  c.pix_fmt = dst_format;
  c.time_base = AVRational{1, 25};
  c.thread_count = 1;
  if (jpeg) {
    c.color_range = AVCOL_RANGE_JPEG;
    c.flags |= AV_CODEC_FLAG_QSCALE;
    c.qmin = 1;
    c.qmax = kMaxQscale;
    c.global_quality = FF_QP2LAMBDA * jpeg_qscale(options_.jpeg_quality);
  }
  if (const int rc = avcodec_open2(&c, codec, nullptr); rc < 0) {
    error_ = "cannot open the image encoder";
    return false;
  }
  scaled_->format = dst_format;
  scaled_->width = width;
  scaled_->height = height;
  if (jpeg) scaled_->color_range = AVCOL_RANGE_JPEG;
  if (av_frame_get_buffer(scaled_.get(), 0) < 0) {
    error_ = "out of memory";
    return false;
  }
  return true;
}

std::optional<std::vector<std::uint8_t>> ImageEncoder::encode(const AVFrame& frame) {
  if (!prepare(frame)) return std::nullopt;
  if (av_frame_make_writable(scaled_.get()) < 0) {
    error_ = "out of memory";
    return std::nullopt;
  }
  if (sws_scale(sws_.get(), frame.data, frame.linesize, 0, frame.height, scaled_->data, scaled_->linesize) <= 0) {
    error_ = "cannot scale the frame";
    return std::nullopt;
  }
  scaled_->quality = encoder_->global_quality;
  scaled_->pts = next_pts_++;
  if (const int rc = avcodec_send_frame(encoder_.get(), scaled_.get()); rc < 0) {
    error_ = "cannot encode the image (send): " + std::to_string(rc);
    return std::nullopt;
  }
  ff::PacketPtr pkt(av_packet_alloc());
  if (!pkt) {
    error_ = "out of memory";
    return std::nullopt;
  }
  if (const int rc = avcodec_receive_packet(encoder_.get(), pkt.get()); rc < 0) {
    error_ = "cannot encode the image (receive): " + std::to_string(rc);
    return std::nullopt;
  }
  return std::vector<std::uint8_t>(pkt->data, pkt->data + pkt->size);
}

}  // namespace kvsd::av
