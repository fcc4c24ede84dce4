#include "imaging/cluster_frames.hpp"

#include "media/ebml_reader.hpp"
#include "media/matroska_ids.hpp"

namespace kvsd::imaging {
namespace {

namespace ebml = media::ebml;
namespace mkv_id = media::mkv_id;

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
  ebml::ElementHeader h;
  if (ebml::decode_header(cluster, h) != ebml::ReadStatus::complete || h.id != mkv_id::kCluster) return std::nullopt;
  const std::size_t rest = cluster.size() - h.length;
  if (!h.unknown_size && h.size > rest) return std::nullopt;
  ebml::ChildIterator it(cluster.subspan(h.length, h.unknown_size ? rest : static_cast<std::size_t>(h.size)));
  std::vector<ClusterFrame> frames;
  std::span<const std::uint8_t> payload;
  for (auto n = it.next(h, payload); n != ebml::ChildIterator::Next::end; n = it.next(h, payload)) {
    if (n == ebml::ChildIterator::Next::invalid) return std::nullopt;
    ClusterFrame frame;
    if (h.id == mkv_id::kSimpleBlock) {
      const auto r = read_block(payload, track_number, frame);
      if (r == BlockResult::invalid) return std::nullopt;
      if (r == BlockResult::other_track) continue;
    } else if (h.id == mkv_id::kBlockGroup) {
      ebml::ChildIterator group(payload);
      std::span<const std::uint8_t> part;
      bool have_block = false;
      bool referenced = false;
      for (auto g = group.next(h, part); g != ebml::ChildIterator::Next::end; g = group.next(h, part)) {
        if (g == ebml::ChildIterator::Next::invalid) return std::nullopt;
        if (h.id == mkv_id::kReferenceBlock) referenced = true;
        if (h.id != mkv_id::kBlock) continue;
        if (have_block) return std::nullopt;  // one Block per BlockGroup
        const auto r = read_block(part, track_number, frame);
        if (r == BlockResult::invalid) return std::nullopt;
        have_block = r == BlockResult::frame;
      }
      if (!have_block) continue;
      frame.key = !referenced;
    } else {
      continue;
    }
    if (frames.size() == kMaxClusterFrames) return std::nullopt;
    frames.push_back(frame);
  }
  return frames;
}

}  // namespace kvsd::imaging
