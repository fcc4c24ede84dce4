#pragma once
// H.264/H.265 decoder configuration records (avcC, hvcC) and the framing of NAL units in a frame:
// length-prefixed (as MP4 and Matroska store them) or Annex-B start codes (as some producers send
// them). Pure functions over caller-owned bytes; thread-safe.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace kvsd::media {

// Validates an AVCDecoderConfigurationRecord (ISO/IEC 14496-15 5.3.3.1): version 1, at least one
// SPS (NAL type 7) and one PPS (NAL type 8), every parameter set inside the record, NAL length
// size 1, 2 or 4. Returns the NAL length size, or nullopt when the record is malformed.
std::optional<std::size_t> avcc_nal_length_size(std::span<const std::uint8_t> record);

// Validates an HEVCDecoderConfigurationRecord (ISO/IEC 14496-15 8.3.3.1): version 1, the 23-byte
// fixed part, every NAL array inside the record, and at least one VPS (32), SPS (33) and PPS (34).
// Returns the NAL length size (1, 2 or 4), or nullopt when the record is malformed.
std::optional<std::size_t> hvcc_nal_length_size(std::span<const std::uint8_t> record);

// True when `frame` is a sequence of NAL units, each preceded by a big-endian length of
// `length_size` bytes, that covers the frame exactly; no NAL unit is empty.
bool is_length_prefixed(std::span<const std::uint8_t> frame, std::size_t length_size);

// True when `frame` starts with an Annex-B start code (00 00 01 or 00 00 00 01).
bool starts_with_start_code(std::span<const std::uint8_t> frame);

// Rewrites an Annex-B frame to length-prefixed NAL units (`length_size` bytes each), dropping
// trailing zero bytes before start codes. nullopt when the frame holds no NAL unit or one is too
// long for `length_size`.
std::optional<std::vector<std::uint8_t>> annex_b_to_length_prefixed(std::span<const std::uint8_t> frame,
                                                                    std::size_t length_size);

}  // namespace kvsd::media
