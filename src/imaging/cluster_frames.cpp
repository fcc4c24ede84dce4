#include "imaging/cluster_frames.hpp"

#include "media/cluster_blocks.hpp"
#include "media/ebml_reader.hpp"

namespace kvsd::imaging {
namespace {

namespace ebml = media::ebml;

enum class BlockResult { other_track, frame, invalid };

// A Block/SimpleBlock payload: track vint, int16 timecode, flags, data.
BlockResult read_block(std::span<const std::uint8_t> block, std::uint64_t track_number, ClusterFrame& out) {
  std::uint64_t track = 0;
  std::size_t length = 0;
  if (ebml::decode_vint(block, track, length) != ebml::ReadStatus::complete) return BlockResult::invalid;
  if (block.size() < length + 3) return BlockResult::invalid;
  if (track != track_number) return BlockResult::other_track;
  const auto hi = static_cast<std::uint16_t>(block[length]);
  const auto lo = static_cast<std::uint16_t>(block[length + 1]);
  out.timecode = static_cast<std::int16_t>(static_cast<std::uint16_t>((hi << 8) | lo));
  const std::uint8_t flags = block[length + 2];
  if ((flags & 0x06u) != 0) return BlockResult::invalid;  // laced
  out.key = (flags & 0x80u) != 0;
  out.payload = block.subspan(length + 3);
  return BlockResult::frame;
}

}  // namespace

std::optional<std::vector<ClusterFrame>> read_cluster_frames(std::span<const std::uint8_t> cluster,
                                                             std::uint64_t track_number) {
  media::ClusterBlocks blocks(cluster);
  media::ClusterBlock block;
  std::vector<ClusterFrame> frames;
  for (auto n = blocks.next(block); n != media::ClusterBlocks::Next::end; n = blocks.next(block)) {
    if (n == media::ClusterBlocks::Next::invalid) return std::nullopt;
    ClusterFrame frame;
    const auto r = read_block(block.payload, track_number, frame);
    if (r == BlockResult::invalid) return std::nullopt;
    if (r == BlockResult::other_track) continue;
    if (!block.simple) frame.key = !block.referenced;
    if (frames.size() == kMaxClusterFrames) return std::nullopt;
    frames.push_back(frame);
  }
  return frames;
}

}  // namespace kvsd::imaging
