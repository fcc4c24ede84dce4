#include "av/image_options.hpp"

#include <algorithm>
#include <cmath>

namespace kvsd::av {
namespace {

constexpr int kMaxQscale = 31;
constexpr double kQscaleAtStandardTables = 8.0;

}  // namespace

std::pair<int, int> output_size(const ImageOptions& options, int src_width, int src_height) {
  if (options.width && options.height) return {*options.width, *options.height};
  if (options.height && src_height > 0) {
    const double w = std::round(static_cast<double>(src_width) * *options.height / src_height);
    return {std::max(1, static_cast<int>(w)), *options.height};
  }
  if (options.width && src_width > 0) {
    const double h = std::round(static_cast<double>(src_height) * *options.width / src_width);
    return {*options.width, std::max(1, static_cast<int>(h))};
  }
  return {src_width, src_height};
}

int jpeg_qscale(int quality) {
  // libjpeg's quality scaling of the standard tables (5000/q below 50, 200-2q from 50, in %);
  // FFmpeg's mjpeg qscale 8 uses the standard tables as they are.
  quality = std::clamp(quality, 1, 100);
  const double percent = quality < 50 ? 5000.0 / quality : 200.0 - 2.0 * quality;
  return std::clamp(static_cast<int>(std::lround(percent * kQscaleAtStandardTables / 100.0)), 1, kMaxQscale);
}

}  // namespace kvsd::av
