#pragma once
// H.264/H.265 NAL framing conversions the SDK applies before muxing: Annex-B (start codes) to
// 4-byte length prefixes, and an AVCDecoderConfigurationRecord (avcC) built from Annex-B SPS/PPS
// (libx264 with global headers gives Annex-B extradata). Pure functions; no I/O.

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace kvsput {

using Bytes = std::vector<std::uint8_t>;

// True if data begins with a 3- or 4-byte Annex-B start code. Only meaningful for codec data
// (extradata): a length-prefixed packet whose first NAL is 256..511 bytes long starts with
// 00 00 01 too, so the framing of packets must be decided from the extradata.
bool is_annex_b(std::span<const std::uint8_t> data) noexcept;

// The NAL units of an Annex-B buffer, start codes and the zero bytes before them removed.
std::vector<std::span<const std::uint8_t>> split_annex_b(std::span<const std::uint8_t> data);

// Every NAL unit with a 4-byte big-endian length prefix instead of its start code.
Bytes annex_b_to_length_prefixed(std::span<const std::uint8_t> data);

// avcC from the SPS (type 7) and PPS (type 8) NAL units in an Annex-B buffer; nullopt without an
// SPS of at least 4 bytes or without a PPS.
std::optional<Bytes> avcc_from_annex_b(std::span<const std::uint8_t> data);

}  // namespace kvsput
