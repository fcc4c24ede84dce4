#pragma once
// What GetImages asks of every image: format, JPEG quality and output size. Plain values and the
// size rule; no FFmpeg.

#include <optional>
#include <utility>

namespace kvsd::av {

enum class ImageFormat { jpeg, png };

inline constexpr int kDefaultJpegQuality = 80;

struct ImageOptions {
  ImageFormat format = ImageFormat::jpeg;
  int jpeg_quality = kDefaultJpegQuality;  // 1 (smallest) .. 100 (best)
  std::optional<int> width;                // WidthPixels
  std::optional<int> height;               // HeightPixels
};

// The output size for a source frame of src_width x src_height (spec section 6): both given ->
// exactly that (stretched); neither -> the source size; height only -> that height and the
// width that keeps the source aspect ratio (at least 1). Width only is rejected by the caller
// before any decoding; here it keeps the source aspect ratio from the width.
std::pair<int, int> output_size(const ImageOptions& options, int src_width, int src_height);

// The mjpeg qscale (1 best .. 31 smallest) for a JPEGQuality of 1..100 (clamped), following
// libjpeg's quality scale: 50 -> the standard tables (qscale 8), 80 -> 3, 90 -> 2, >= 94 -> 1.
int jpeg_qscale(int quality);

}  // namespace kvsd::av
