#pragma once
// MPEG-TS chunks for HLS (spec archived-media 3.5), muxed by libavformat in memory. The timing
// rule and the playable tracks are media/hls_segments.hpp's, so TS and fMP4 segments of a
// fragment agree. A pure function over caller-owned bytes: thread-safe, blocking CPU work
// proportional to the fragment size.

#include <cstdint>
#include <span>
#include <variant>
#include <vector>

#include "media/hls_segments.hpp"

namespace kvsd::av {

// MPEG-TS chunk with the playable tracks of one fragment (playback_tracks(header, true)): PAT/PMT
// first, H.264 as stream_type 0x1B (Annex-B, SPS/PPS inserted before each IDR), AAC as ADTS 0x0F.
// PTS/DTS follow the timing rule at 90 kHz (written modulo 2^33, as MPEG-TS does).
// The chunk holds no SDT (the muxer's is removed). Errors: as playback_tracks(header, true), plus
// invalid_media_frame as fmp4_media_segment (also: no frame of a playable track in the Cluster,
// the muxer rejects a frame), internal (an FFmpeg failure). FFmpeg's log callback is left as it
// is (GetClip's mp4_clip.cpp installs a recorder once per process).
std::variant<std::vector<std::uint8_t>, media::MediaError> ts_segment(std::span<const std::uint8_t> header,
                                                                      std::span<const std::uint8_t> cluster,
                                                                      std::int64_t fragment_start_ms);

}  // namespace kvsd::av
