#pragma once
// A MediaSource that generates a test pattern: H.264 (libx264) 640x360 at 25 fps with a key frame
// every 25 frames (1 s fragments), moving bars and the frame number drawn as digits; optionally an
// AAC (48 kHz stereo) sine tone. Frames are encoded once, in 1 s batches, as the run goes.

#include <memory>
#include <string>

#include "frame_store.hpp"

namespace kvsput {

std::unique_ptr<MediaSource> open_pattern_source(double seconds, bool audio, std::string& error);

}  // namespace kvsput
