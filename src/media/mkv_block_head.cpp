#include "media/mkv_block_head.hpp"

#include "media/ebml_reader.hpp"
#include "media/matroska_ids.hpp"

namespace kvsd::media {

namespace {

constexpr std::uint8_t kLacingMask = 0x06;
constexpr std::uint8_t kFixedLacing = 0x04;

}  // namespace

std::size_t block_head_length(std::span<const std::uint8_t> filled) noexcept {
  if (filled.empty()) return 1;
  const std::size_t track_length = ebml::vint_length(filled[0]);
  if (track_length == 0) return 0;
  std::size_t needed = track_length + 3;
  if (filled.size() >= needed && (filled[needed - 1] & kLacingMask) != 0) ++needed;
  return needed;
}

std::optional<BlockHead> decode_block_head(std::span<const std::uint8_t> head, std::uint64_t payload_after_head,
                                           std::string& why) {
  BlockHead out;
  std::size_t track_length = 0;
  if (ebml::decode_vint(head, out.track_number, track_length) != ebml::ReadStatus::complete ||
      head.size() < track_length + 3) {
    why = "invalid block track number";
    return std::nullopt;
  }
  out.relative_timecode = static_cast<std::int16_t>((head[track_length] << 8) | head[track_length + 1]);
  out.flags = head[track_length + 2];
  if ((out.flags & kLacingMask) != 0) {
    if (head.size() < track_length + 4) {
      why = "laced block without a lace count";
      return std::nullopt;
    }
    out.frames = std::uint64_t{head[track_length + 3]} + 1;
    if ((out.flags & kLacingMask) == kFixedLacing && payload_after_head % out.frames != 0) {
      why = "fixed-size lacing does not divide the block payload";
      return std::nullopt;
    }
  }
  return out;
}

bool is_cluster_child(std::uint32_t id) noexcept {
  switch (id) {
    case mkv_id::kTimecode:
    case mkv_id::kPosition:
    case mkv_id::kPrevSize:
    case mkv_id::kSimpleBlock:
    case mkv_id::kBlockGroup:
    case mkv_id::kVoid:
    case mkv_id::kCrc32:
    case mkv_id::kSilentTracks:
      return true;
    default:
      return false;
  }
}

std::string hex_id(std::uint32_t id) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (int shift = 28; shift >= 0; shift -= 4) {
    const auto nibble = (id >> shift) & 0xF;
    if (out.empty() && nibble == 0 && shift != 0) continue;
    out.push_back(kDigits[nibble]);
  }
  return "0x" + out;
}

}  // namespace kvsd::media
