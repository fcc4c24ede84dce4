#pragma once
// Base64 for the opaque tokens kvsd hands out, in two forms:
// - standard: alphabet [A-Za-z0-9+/], padded with '=' to a multiple of 4 (the NextToken patterns
//   of the API models, [a-zA-Z0-9+/]+={0,2});
// - url: alphabet [A-Za-z0-9-_], unpadded (HLS/DASH session tokens and ListFragments cursors,
//   which sit in query strings and JSON unescaped).
// Pure functions, shared by the API handlers and the stores. Decoding takes only the canonical
// encoding of some bytes (right alphabet, padding, length and zero leftover bits), so a token
// has one spelling; anything else is nullopt.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kvs {

enum class Base64 { standard, url };

namespace base64_detail {

inline constexpr std::string_view kStandard = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
inline constexpr std::string_view kUrl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::string_view alphabet(Base64 form) { return form == Base64::url ? kUrl : kStandard; }

}  // namespace base64_detail

inline std::string base64_encode(std::string_view raw, Base64 form = Base64::standard) {
  const auto digits = base64_detail::alphabet(form);
  const auto* in = reinterpret_cast<const unsigned char*>(raw.data());
  std::string out((raw.size() + 2) / 3 * 4, '=');
  std::size_t i = 0;
  std::size_t o = 0;
  for (; i + 3 <= raw.size(); i += 3) {
    const std::uint32_t v = (std::uint32_t{in[i]} << 16) | (std::uint32_t{in[i + 1]} << 8) | in[i + 2];
    out[o++] = digits[v >> 18];
    out[o++] = digits[(v >> 12) & 0x3F];
    out[o++] = digits[(v >> 6) & 0x3F];
    out[o++] = digits[v & 0x3F];
  }
  if (const auto rest = raw.size() - i; rest > 0) {
    const std::uint32_t v = (std::uint32_t{in[i]} << 16) | (rest == 2 ? std::uint32_t{in[i + 1]} << 8 : 0);
    out[o++] = digits[v >> 18];
    out[o++] = digits[(v >> 12) & 0x3F];
    if (rest == 2) out[o++] = digits[(v >> 6) & 0x3F];
  }
  if (form == Base64::url) out.resize(o);  // unpadded
  return out;
}

inline std::optional<std::string> base64_decode(std::string_view text, Base64 form = Base64::standard) {
  const auto digits = base64_detail::alphabet(form);
  if (form == Base64::standard) {
    if (text.size() % 4 != 0) return std::nullopt;
    std::size_t pad = 0;
    while (pad < 2 && pad < text.size() && text[text.size() - 1 - pad] == '=') ++pad;
    text.remove_suffix(pad);
  }
  if (text.size() % 4 == 1) return std::nullopt;  // 6 bits: not a whole byte
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (const char c : text) {
    const auto value = digits.find(c);
    if (value == std::string_view::npos) return std::nullopt;
    acc = ((acc << 6) | static_cast<std::uint32_t>(value)) & 0xFFFFFF;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  if ((acc & ((1U << bits) - 1)) != 0) return std::nullopt;  // leftover bits must be zero
  return out;
}

// 1 to max_chars characters of the standard form's shape: [a-zA-Z0-9+/]+={0,2} (the pattern
// the models give NextToken; the length need not be a multiple of 4).
inline bool is_base64_token(std::string_view s, std::size_t max_chars) {
  if (s.empty() || s.size() > max_chars) return false;
  std::size_t pad = 0;
  for (const char c : s) {
    if (c == '=') {
      ++pad;
    } else if (pad > 0 || base64_detail::kStandard.find(c) == std::string_view::npos) {
      return false;
    }
  }
  return pad <= 2 && pad < s.size();
}

}  // namespace kvs
