#pragma once
// Images of one stored fragment at given instants, in one decoding pass: the fragment's video
// (track 1, H.264 or H.265) is decoded from its first (key) frame, and each instant gets the
// frame shown at that instant, the last decoded frame whose presentation time is at or before
// it. Decoding stops once every instant has its frame. An image used by several instants is
// encoded once.
//
// Blocking CPU work (libavcodec, libswscale): call it on the offload pool, never on an I/O
// thread. No shared state; any number of calls may run at once on different threads (callers
// bound how many, each holds one decoder's frame pool).

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "av/image_options.hpp"

namespace kvsd::av {

enum class ImageStatus {
  ok,
  no_media,     // no frame at or before the instant in this fragment (NO_MEDIA)
  media_error,  // there is media but no image can be made from it (MEDIA_ERROR)
};

struct FragmentImage {
  ImageStatus status = ImageStatus::no_media;
  // The encoded JPEG/PNG when ok. Instants that show the same frame share one buffer.
  std::shared_ptr<const std::vector<std::uint8_t>> bytes;
};

struct FragmentImages {
  std::vector<FragmentImage> images;  // parallel to the instants
  std::string error;                  // why some are media_error (for logs), else empty
  std::size_t frames_decoded = 0;
};

// `header`: the stored stream header of the fragment; `cluster`: its stored Cluster bytes.
// `instants_ns`: ascending instants, nanoseconds from the fragment start (the Cluster Timecode).
// Instants before the first video frame are no_media; every instant is media_error when track 1
// is not H.264/H.265 video (audio only, other codecs), the header or Cluster is malformed, or
// decoding fails before the instant has its frame.
FragmentImages extract_fragment_images(std::span<const std::uint8_t> header, std::span<const std::uint8_t> cluster,
                                       std::span<const std::int64_t> instants_ns, const ImageOptions& options);

}  // namespace kvsd::av
