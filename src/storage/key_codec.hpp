#pragma once
// Key codec: the byte layout of every fragment-store key (big-endian, so byte order is numeric
// order), the fixed-width fragment number format and the opaque list cursor. Pure functions, no
// I/O. Layouts are documented in docs/storage.md.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kvsd::storage {

inline constexpr std::size_t kIdBytes = 8;
inline constexpr std::size_t kFragmentKeyBytes = 16;   // stream_id + fragment number
inline constexpr std::size_t kTimestampKeyBytes = 24;  // stream_id + flipped ts + fragment number
inline constexpr std::size_t kFragmentNumberChars = 21;

void put_u64_be(std::string& out, std::uint64_t v);
// Reads 8 bytes at `pos`; the caller checks the length.
std::uint64_t get_u64_be(std::string_view in, std::size_t pos) noexcept;

// int64 -> uint64 with the sign bit flipped, so negative values sort before positive ones.
constexpr std::uint64_t flip_sign(std::int64_t v) noexcept {
  return static_cast<std::uint64_t>(v) ^ (std::uint64_t{1} << 63);
}
constexpr std::int64_t unflip_sign(std::uint64_t v) noexcept {
  return static_cast<std::int64_t>(v ^ (std::uint64_t{1} << 63));
}

// 8 bytes: the prefix every key of one stream starts with.
std::string stream_prefix(std::uint64_t stream_id);
// stream_id + id (fragments, headers, segments families).
std::string id_key(std::uint64_t stream_id, std::uint64_t id);
std::string timestamp_key(std::uint64_t stream_id, std::int64_t ts_ms, std::uint64_t fragment_number);

struct TimestampKey {
  std::uint64_t stream_id = 0;
  std::int64_t ts_ms = 0;
  std::uint64_t fragment_number = 0;
};
std::optional<TimestampKey> decode_timestamp_key(std::string_view key) noexcept;

// Fragment numbers: '9' followed by the u64 zero-padded to 20 digits (21 characters), so string
// order equals numeric order. parse returns nullopt for anything else.
std::string format_fragment_number(std::uint64_t n);
std::optional<std::uint64_t> parse_fragment_number(std::string_view s) noexcept;

// List cursors: the last index key returned, base64url without padding ([A-Za-z0-9_-]).
std::string encode_cursor(std::string_view key);
std::optional<std::string> decode_cursor(std::string_view cursor);

// 16 lower-case hex digits (blob directory and file names).
std::string hex16(std::uint64_t v);
std::optional<std::uint64_t> parse_hex16(std::string_view s) noexcept;

}  // namespace kvsd::storage
