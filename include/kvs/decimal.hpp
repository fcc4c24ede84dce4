#pragma once
// parse_decimal: the one way kvsd reads a base-10 integer from text (std::from_chars underneath).

#include <charconv>
#include <concepts>
#include <optional>
#include <string_view>
#include <system_error>

namespace kvs {

// The whole of `text` as a T: ASCII digits, with one leading '-' only when T is signed. No '+',
// no spaces, no other characters, not empty, and the value fits T (no wrap-around); otherwise
// std::nullopt. Leading zeros are accepted.
template <std::integral T>
[[nodiscard]] constexpr std::optional<T> parse_decimal(std::string_view text) noexcept {
  if (text.empty()) return std::nullopt;
  T value{};
  const char* end = text.data() + text.size();
  const auto [stop, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc{} || stop != end) return std::nullopt;
  return value;
}

}  // namespace kvs
