#pragma once
// Helpers over a stored stream header (EBML header + Segment element header + Info + Tracks, as
// the producer sent them) for the read paths that rebuild Matroska documents from stored
// fragments. Pure functions: no I/O, no shared state, thread-safe.

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "media/mkv_ingest_parser.hpp"

namespace kvsd::media {

// The 8-byte unknown-size vint written in place of the Segment's size field.
inline constexpr std::uint8_t kUnknownSize8[8] = {0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};

// Returns `header` with the Segment element's known size field (any width) replaced by the 8-byte
// unknown size 01 FF FF FF FF FF FF FF, so that clusters appended after it belong to the Segment
// whatever size the producer declared. A Segment that is already unknown-size (any width, e.g. the
// SDK's 1-byte FF) is returned unchanged. The header must start with a complete EBML header
// element followed by the Segment element header; otherwise the result is empty.
std::vector<std::uint8_t> unknown_size_segment_header(std::span<const std::uint8_t> header);

// What a stored header declares: TimecodeScale (Info) and the TrackEntries (Tracks).
struct StoredHeaderInfo {
  std::uint64_t timecode_scale_ns = 1'000'000;
  std::vector<TrackInfo> tracks;
};

// Decodes Info and Tracks of a stored header (EBML header, Segment header, then Segment children
// up to the end of `header`). nullopt when the bytes are not such a header, a child overruns the
// header, or Info/Tracks are malformed (the ingest parser's rules, with IngestLimits{}).
std::optional<StoredHeaderInfo> read_stored_header(std::span<const std::uint8_t> header);

// Frames per track number in one stored Cluster element (known or unknown size): one per
// SimpleBlock or BlockGroup Block, or the lace count of a laced block. A block with no payload
// after its header still counts. nullopt when the Cluster or a child is malformed.
struct TrackFrameCount {
  std::uint64_t track_number = 0;
  std::uint64_t frames = 0;
};
std::optional<std::vector<TrackFrameCount>> count_cluster_frames(std::span<const std::uint8_t> cluster);

}  // namespace kvsd::media
