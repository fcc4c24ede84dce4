#pragma once
// ImageEncoder: turns decoded video frames into JPEG (FFmpeg's mjpeg encoder) or PNG images of
// the requested size, scaling and converting with libswscale. Scaler and encoder contexts are
// made on the first frame and reused while the frame size and pixel format stay the same.
//
// Threading: one encoder per thread at a time.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "av/ffmpeg_ptr.hpp"
#include "av/image_options.hpp"

namespace kvsd::av {

class ImageEncoder {
 public:
  explicit ImageEncoder(const ImageOptions& options);
  ~ImageEncoder();
  ImageEncoder(const ImageEncoder&) = delete;
  ImageEncoder& operator=(const ImageEncoder&) = delete;

  // The encoded image; nullopt (see error()) when scaling or encoding fails.
  std::optional<std::vector<std::uint8_t>> encode(const AVFrame& frame);
  [[nodiscard]] const std::string& error() const noexcept { return error_; }

 private:
  bool prepare(const AVFrame& frame);

  ImageOptions options_;
  int src_width_ = 0, src_height_ = 0, src_format_ = -1;
  ff::SwsContextPtr sws_;
  ff::CodecContextPtr encoder_;
  ff::FramePtr scaled_;
  std::int64_t next_pts_ = 0;
  std::string error_;
};

}  // namespace kvsd::av
