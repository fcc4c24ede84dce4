#include "av/cluster_frames.hpp"

#include "media/cluster_blocks.hpp"

namespace kvsd::av {

std::optional<std::vector<ClusterFrame>> read_cluster_frames(std::span<const std::uint8_t> cluster,
                                                             std::uint64_t track_number) {
  media::ClusterBlocks blocks(cluster);
  media::ClusterBlock block;
  std::vector<ClusterFrame> frames;
  for (auto n = blocks.next(block); n != media::ClusterBlocks::Next::end; n = blocks.next(block)) {
    if (n == media::ClusterBlocks::Next::invalid) return std::nullopt;
    if (block.head.track_number != track_number) continue;
    if (block.laced()) return std::nullopt;  // video is never laced
    if (frames.size() == kMaxClusterFrames) return std::nullopt;
    frames.push_back(ClusterFrame{block.head.relative_timecode, block.key(), block.data});
  }
  return frames;
}

}  // namespace kvsd::av
