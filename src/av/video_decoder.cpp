#include "av/video_decoder.hpp"

#include <array>
#include <cstring>
#include <optional>

#include "av/ffmpeg_ptr.hpp"
#include "media/nal_framing.hpp"

namespace kvsd::av {
namespace {

constexpr std::string_view kCodecAvc = "V_MPEG4/ISO/AVC";
constexpr std::string_view kCodecHevc = "V_MPEGH/ISO/HEVC";

std::string av_error_text(int av_error) {
  std::array<char, AV_ERROR_MAX_STRING_SIZE> text{};
  av_strerror(av_error, text.data(), text.size());
  return text.data();
}

}  // namespace

std::unique_ptr<VideoDecoder> VideoDecoder::create(std::string_view codec_id,
                                                   std::span<const std::uint8_t> codec_private, std::string& error) {
  const bool hevc = codec_id == kCodecHevc;
  if (!hevc && codec_id != kCodecAvc) {
    error = "video codec '" + std::string(codec_id) + "' is not H.264 or H.265";
    return nullptr;
  }
  std::unique_ptr<VideoDecoder> d(new VideoDecoder());
  if (!codec_private.empty()) {
    const auto length_size =
        hevc ? media::hvcc_nal_length_size(codec_private) : media::avcc_nal_length_size(codec_private);
    if (!length_size) {
      error = std::string("video CodecPrivate is not a valid ") + (hevc ? "hvcC" : "avcC") + " record";
      return nullptr;
    }
    d->nal_length_size_ = *length_size;
  }
  const AVCodec* codec = avcodec_find_decoder(hevc ? AV_CODEC_ID_HEVC : AV_CODEC_ID_H264);
  if (codec == nullptr) {
    error = "FFmpeg has no decoder for this codec";
    return nullptr;
  }
  d->ctx_.reset(avcodec_alloc_context3(codec));
  d->frame_.reset(av_frame_alloc());
  if (!d->ctx_ || !d->frame_) {
    error = "out of memory";
    return nullptr;
  }
  AVCodecContext& c = *d->ctx_;
  c.log_level_offset = ff::kQuietLogOffset;
  c.thread_count = 1;
  c.err_recognition |= AV_EF_EXPLODE;
  if (!codec_private.empty()) {
    c.extradata = static_cast<std::uint8_t*>(av_mallocz(codec_private.size() + AV_INPUT_BUFFER_PADDING_SIZE));
    if (c.extradata == nullptr) {
      error = "out of memory";
      return nullptr;
    }
    std::memcpy(c.extradata, codec_private.data(), codec_private.size());
    c.extradata_size = static_cast<int>(codec_private.size());
  }
  if (const int rc = avcodec_open2(&c, codec, nullptr); rc < 0) {
    error = "cannot open the decoder: " + av_error_text(rc);
    return nullptr;
  }
  return d;
}

VideoDecoder::~VideoDecoder() = default;

bool VideoDecoder::fail(std::string what, int av_error) {
  if (av_error != 0) what += ": " + av_error_text(av_error);
  if (error_.empty()) error_ = std::move(what);
  return false;
}

bool VideoDecoder::send(std::span<const std::uint8_t> payload, std::int64_t pts) {
  if (failed()) return false;
  if (payload.empty()) return fail("empty video frame");
  std::optional<std::vector<std::uint8_t>> rewritten;
  if (nal_length_size_ != 0 && !media::is_length_prefixed(payload, nal_length_size_)) {
    if (media::starts_with_start_code(payload))
      rewritten = media::annex_b_to_length_prefixed(payload, nal_length_size_);
    if (!rewritten) return fail("a video frame is neither length-prefixed nor Annex-B");
    payload = *rewritten;
  }
  ff::PacketPtr pkt(av_packet_alloc());
  if (!pkt || av_new_packet(pkt.get(), static_cast<int>(payload.size())) < 0) return fail("out of memory");
  std::memcpy(pkt->data, payload.data(), payload.size());
  pkt->pts = pts;
  pkt->dts = AV_NOPTS_VALUE;
  const int rc = avcodec_send_packet(ctx_.get(), pkt.get());
  if (rc == AVERROR(EAGAIN)) return fail("decoder refused input with frames pending");
  if (rc < 0) return fail("cannot decode a video frame", rc);
  return true;
}

bool VideoDecoder::finish() {
  if (failed()) return false;
  const int rc = avcodec_send_packet(ctx_.get(), nullptr);
  if (rc < 0 && rc != AVERROR_EOF) return fail("cannot flush the decoder", rc);
  return true;
}

const AVFrame* VideoDecoder::receive() {
  if (failed()) return nullptr;
  av_frame_unref(frame_.get());
  const int rc = avcodec_receive_frame(ctx_.get(), frame_.get());
  if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return nullptr;
  if (rc < 0) {
    fail("cannot decode a video frame", rc);
    return nullptr;
  }
  if (frame_->decode_error_flags != 0 || (frame_->flags & AV_FRAME_FLAG_CORRUPT) != 0) {
    fail("a decoded video frame is corrupt");
    return nullptr;
  }
  if (frame_->width <= 0 || frame_->height <= 0) {
    fail("a decoded video frame has no size");
    return nullptr;
  }
  return frame_.get();
}

}  // namespace kvsd::av
