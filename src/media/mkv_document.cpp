#include "media/mkv_document.hpp"

#include <algorithm>

#include "media/cluster_blocks.hpp"
#include "media/ebml_reader.hpp"
#include "media/matroska_ids.hpp"
#include "media/mkv_header_elements.hpp"

namespace kvsd::media {
namespace {

struct SegmentLocation {
  std::size_t size_offset = 0;  // where the Segment's size field starts
  std::size_t size_length = 0;  // bytes of that field
  std::size_t payload_offset = 0;
  bool unknown_size = false;
};

// Finds the Segment header right after the EBML header element.
std::optional<SegmentLocation> locate_segment(std::span<const std::uint8_t> header) {
  ebml::ElementHeader ebml_h;
  if (ebml::decode_header(header, ebml_h) != ebml::ReadStatus::complete) return std::nullopt;
  if (ebml_h.id != mkv_id::kEbml || ebml_h.unknown_size) return std::nullopt;
  if (ebml_h.size > header.size() - ebml_h.length) return std::nullopt;
  const std::size_t segment_at = ebml_h.length + static_cast<std::size_t>(ebml_h.size);

  ebml::ElementHeader seg_h;
  if (ebml::decode_header(header.subspan(segment_at), seg_h) != ebml::ReadStatus::complete) return std::nullopt;
  if (seg_h.id != mkv_id::kSegment) return std::nullopt;
  SegmentLocation loc;
  loc.size_offset = segment_at + seg_h.id_length;
  loc.size_length = static_cast<std::size_t>(seg_h.length - seg_h.id_length);
  loc.payload_offset = segment_at + seg_h.length;
  loc.unknown_size = seg_h.unknown_size;
  return loc;
}

}  // namespace

std::optional<std::vector<TrackFrameCount>> count_cluster_frames(std::span<const std::uint8_t> cluster) {
  ClusterBlocks blocks(cluster);
  ClusterBlock block;
  std::vector<TrackFrameCount> counts;
  for (auto n = blocks.next(block); n != ClusterBlocks::Next::end; n = blocks.next(block)) {
    if (n == ClusterBlocks::Next::invalid) return std::nullopt;
    const auto track = block.head.track_number;
    auto it = std::find_if(counts.begin(), counts.end(), [&](const auto& c) { return c.track_number == track; });
    if (it == counts.end()) it = counts.insert(counts.end(), TrackFrameCount{track, 0});
    it->frames += block.head.frames;
  }
  return counts;
}

std::vector<std::uint8_t> unknown_size_segment_header(std::span<const std::uint8_t> header) {
  const auto loc = locate_segment(header);
  if (!loc) return {};
  if (loc->unknown_size) return {header.begin(), header.end()};
  std::vector<std::uint8_t> out;
  out.reserve(header.size() + sizeof(kUnknownSize8));
  out.insert(out.end(), header.begin(), header.begin() + static_cast<std::ptrdiff_t>(loc->size_offset));
  out.insert(out.end(), std::begin(kUnknownSize8), std::end(kUnknownSize8));
  out.insert(out.end(), header.begin() + static_cast<std::ptrdiff_t>(loc->size_offset + loc->size_length),
             header.end());
  return out;
}

std::optional<StoredHeaderInfo> read_stored_header(std::span<const std::uint8_t> header) {
  const auto loc = locate_segment(header);
  if (!loc) return std::nullopt;
  StoredHeaderInfo info;
  bool have_tracks = false;
  // The Segment's children up to the end of the stored header; a known Segment size is ignored
  // (it may not cover the clusters, but it always covers the header).
  ebml::ChildIterator it(header.subspan(loc->payload_offset));
  ebml::ElementHeader h;
  std::span<const std::uint8_t> payload;
  for (auto n = it.next(h, payload); n != ebml::ChildIterator::Next::end; n = it.next(h, payload)) {
    if (n == ebml::ChildIterator::Next::invalid) return std::nullopt;
    if (h.id == mkv_id::kInfo) {
      if (parse_info(payload, info.timecode_scale_ns)) return std::nullopt;
    } else if (h.id == mkv_id::kTracks) {
      info.tracks.clear();
      if (parse_tracks(payload, IngestLimits{}, info.tracks)) return std::nullopt;
      have_tracks = true;
    }
  }
  if (!have_tracks) return std::nullopt;
  return info;
}

}  // namespace kvsd::media
