#pragma once
// The frames of one track in a stored Cluster element: a sans-I/O walk over the Cluster's
// SimpleBlocks and BlockGroup Blocks (the shape ingest stores, known or unknown size). Payloads
// are views into the caller's bytes. Pure function; thread-safe.

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace kvsd::av {

struct ClusterFrame {
  std::int64_t timecode = 0;  // block timecode relative to the Cluster, TimecodeScale units
  bool key = false;           // SimpleBlock keyframe flag; BlockGroup without ReferenceBlock
  std::span<const std::uint8_t> payload;
};

// Limits on what one Cluster may make the reader collect.
inline constexpr std::size_t kMaxClusterFrames = 100'000;

// The frames of `track_number` in `cluster` (the element from its ID, as stored), in stored
// (decode) order. nullopt when the Cluster or one of its blocks is malformed, a frame of the track
// is laced (video is never laced), or there are more than kMaxClusterFrames of them.
std::optional<std::vector<ClusterFrame>> read_cluster_frames(std::span<const std::uint8_t> cluster,
                                                             std::uint64_t track_number);

}  // namespace kvsd::av
