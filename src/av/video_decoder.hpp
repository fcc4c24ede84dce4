#pragma once
// VideoDecoder: an H.264 or H.265 libavcodec decoder for the frames of one stored video track,
// configured from the track's Matroska CodecID and CodecPrivate (avcC / hvcC, or none for
// Annex-B streams that carry their parameter sets in band). Frames whose NAL units are framed
// differently from what the CodecPrivate declares (Annex-B start codes in an avcC track) are
// rewritten before decoding.
//
// Strict: any decoding error, or a frame FFmpeg marks corrupt or concealed, fails the decoder
// (MEDIA_ERROR upstream); nothing is logged (see ff::kQuietLogOffset).
//
// Threading: one decoder per thread at a time; it decodes on the calling thread only (no
// FFmpeg frame threads), so its memory is one frame pool.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "av/ffmpeg_ptr.hpp"

namespace kvsd::av {

class VideoDecoder {
 public:
  // nullptr (and `error`) when the codec is not H.264/H.265, the CodecPrivate is malformed, or
  // FFmpeg cannot open the decoder.
  static std::unique_ptr<VideoDecoder> create(std::string_view codec_id, std::span<const std::uint8_t> codec_private,
                                              std::string& error);
  ~VideoDecoder();
  VideoDecoder(const VideoDecoder&) = delete;
  VideoDecoder& operator=(const VideoDecoder&) = delete;

  // Sends one frame (`pts` in any unit; it comes back as AVFrame::pts). False on a decoding
  // error (see error()).
  bool send(std::span<const std::uint8_t> payload, std::int64_t pts);
  // Signals the end of input; receive() then drains the delayed frames.
  bool finish();
  // The next decoded frame in presentation order, or null when the decoder needs more input (or
  // is drained, or failed: check failed()). The frame stays valid until the next receive().
  const AVFrame* receive();

  [[nodiscard]] bool failed() const noexcept { return !error_.empty(); }
  [[nodiscard]] const std::string& error() const noexcept { return error_; }

 private:
  VideoDecoder() = default;
  bool fail(std::string what, int av_error = 0);

  ff::CodecContextPtr ctx_;
  ff::FramePtr frame_;
  std::size_t nal_length_size_ = 0;  // 0: the track has no CodecPrivate (Annex-B in band)
  std::string error_;
};

}  // namespace kvsd::av
