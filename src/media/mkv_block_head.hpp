#pragma once
// The head of a Matroska (Simple)Block: track number, timecode relative to the Cluster, flags and
// the lace count, decoded from its first bytes; and the element helpers the ingest parser's
// Cluster level needs. Sans-I/O, pure functions, thread-safe.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace kvsd::media {

// Smallest block: 1-byte track number, 16-bit timecode, flags.
inline constexpr std::uint64_t kMinBlockSize = 4;
// Block head: track number (up to 8 bytes) + timecode (2) + flags (1) + lace count (1).
inline constexpr std::size_t kMaxBlockHead = 12;

struct BlockHead {
  std::uint64_t track_number = 0;
  std::int16_t relative_timecode = 0;
  std::uint8_t flags = 0;
  std::uint64_t frames = 1;  // laced frames
  [[nodiscard]] bool key() const noexcept { return (flags & 0x80) != 0; }
};

// How many head bytes the block needs, judging from the `filled` bytes seen so far (the track
// number's length comes from its first byte, the lace count from the flags): 0 when the first
// byte is not a valid vint start.
std::size_t block_head_length(std::span<const std::uint8_t> filled) noexcept;

// Decodes a complete head (block_head_length bytes). `payload_after_head` is what follows it in
// the block: fixed-size lacing must divide it. nullopt with `why` set when it is malformed.
std::optional<BlockHead> decode_block_head(std::span<const std::uint8_t> head, std::uint64_t payload_after_head,
                                           std::string& why);

// True for the IDs a Cluster may hold (Timecode, Position, PrevSize, SimpleBlock, BlockGroup,
// Void, CRC-32, SilentTracks).
bool is_cluster_child(std::uint32_t id) noexcept;

// An element ID for messages: "0x1F43B675".
std::string hex_id(std::uint32_t id);

}  // namespace kvsd::media
