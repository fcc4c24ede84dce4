#include "storage/key_codec.hpp"

#include <array>

#include "kvs/base64.hpp"
#include "kvs/decimal.hpp"

namespace kvsd::storage {

namespace {

constexpr std::string_view kHex = "0123456789abcdef";

}  // namespace

void put_u64_be(std::string& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xFF));
}

std::uint64_t get_u64_be(std::string_view in, std::size_t pos) noexcept {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < kIdBytes; ++i) v = (v << 8) | static_cast<unsigned char>(in[pos + i]);
  return v;
}

std::string stream_prefix(std::uint64_t stream_id) {
  std::string k;
  k.reserve(kIdBytes);
  put_u64_be(k, stream_id);
  return k;
}

std::string id_key(std::uint64_t stream_id, std::uint64_t id) {
  std::string k;
  k.reserve(kFragmentKeyBytes);
  put_u64_be(k, stream_id);
  put_u64_be(k, id);
  return k;
}

std::string timestamp_key(std::uint64_t stream_id, std::int64_t ts_ms, std::uint64_t fragment_number) {
  std::string k;
  k.reserve(kTimestampKeyBytes);
  put_u64_be(k, stream_id);
  put_u64_be(k, flip_sign(ts_ms));
  put_u64_be(k, fragment_number);
  return k;
}

std::optional<TimestampKey> decode_timestamp_key(std::string_view key) noexcept {
  if (key.size() != kTimestampKeyBytes) return std::nullopt;
  return TimestampKey{get_u64_be(key, 0), unflip_sign(get_u64_be(key, kIdBytes)), get_u64_be(key, 2 * kIdBytes)};
}

std::string format_fragment_number(std::uint64_t n) {
  std::string s(kFragmentNumberChars, '0');
  s[0] = '9';
  for (std::size_t i = kFragmentNumberChars - 1; i >= 1 && n != 0; --i) {
    s[i] = static_cast<char>('0' + n % 10);
    n /= 10;
  }
  return s;
}

std::optional<std::uint64_t> parse_fragment_number(std::string_view s) noexcept {
  if (s.size() != kFragmentNumberChars || s[0] != '9') return std::nullopt;
  return kvs::parse_decimal<std::uint64_t>(s.substr(1));
}

std::string encode_cursor(std::string_view key) { return kvs::base64_encode(key, kvs::Base64::url); }

std::optional<std::string> decode_cursor(std::string_view cursor) {
  return kvs::base64_decode(cursor, kvs::Base64::url);
}

std::string hex16(std::uint64_t v) {
  std::string s(16, '0');
  for (int i = 15; i >= 0; --i) {
    s[static_cast<std::size_t>(i)] = kHex[v & 0xF];
    v >>= 4;
  }
  return s;
}

std::optional<std::uint64_t> parse_hex16(std::string_view s) noexcept {
  if (s.size() != 16) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    const auto pos = kHex.find(c);
    if (pos == std::string_view::npos) return std::nullopt;
    v = (v << 4) | pos;
  }
  return v;
}

}  // namespace kvsd::storage
