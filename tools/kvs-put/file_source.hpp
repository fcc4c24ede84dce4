#pragma once
// A MediaSource that demuxes an MKV/WebM/MP4/... file or stdin ("-") with libavformat: the best
// H.264 or H.265 video stream (avcC/hvcC or Annex-B extradata) and optionally the best AAC audio
// stream. Annex-B video is converted to length-prefixed NAL units as the SDK does.

#include <memory>
#include <string>

#include "frame_store.hpp"

namespace kvsput {

// Opens and probes the input (blocking). On failure returns null and sets error.
std::unique_ptr<MediaSource> open_file_source(const std::string& path, std::string& error);

}  // namespace kvsput
