#include "auth/canonical.hpp"

#include <algorithm>
#include <utility>

#include "kvs/decimal.hpp"
#include "kvs/hex.hpp"

namespace kvsd::auth {
namespace {

bool is_unreserved(unsigned char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.' || c == '~';
}

bool is_space(char c) noexcept { return c == ' ' || c == '\t'; }

// Python's str.split() whitespace for ASCII.
bool is_py_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

bool parse_digits(std::string_view s, int& out) noexcept {
  // Digits only: parse_decimal would also take a '-'.
  if (s.find_first_not_of("0123456789") != std::string_view::npos) return false;
  const auto v = kvs::parse_decimal<int>(s);
  if (!v) return false;
  out = *v;
  return true;
}

}  // namespace

ParsedQuery parse_query(std::string_view raw_query, std::size_t max_params) {
  ParsedQuery out;
  while (!raw_query.empty()) {
    std::size_t amp = raw_query.find('&');
    std::string_view piece = raw_query.substr(0, amp);
    raw_query = amp == std::string_view::npos ? std::string_view{} : raw_query.substr(amp + 1);
    if (piece.empty()) continue;
    if (out.params.size() == max_params) {
      out.too_many = true;
      break;
    }
    std::size_t eq = piece.find('=');
    std::string_view key = piece.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? std::string_view{} : piece.substr(eq + 1);
    out.params.push_back({percent_decode(key), percent_decode(value)});
  }
  return out;
}

std::string uri_encode(std::string_view s, bool encode_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (is_unreserved(c) || (c == '/' && !encode_slash)) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0x0f]);
    }
  }
  return out;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && kvs::hex_digit_value(s[i + 1]) >= 0 && kvs::hex_digit_value(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(kvs::hex_digit_value(s[i + 1]) * 16 + kvs::hex_digit_value(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::string canonical_query_string(const std::vector<QueryParam>& params, std::string_view exclude_key) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(params.size());
  for (const auto& p : params) {
    if (!exclude_key.empty() && p.key == exclude_key) continue;
    encoded.emplace_back(uri_encode(p.key), uri_encode(p.value));
  }
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [k, v] : encoded) {
    if (!out.empty()) out.push_back('&');
    out.append(k).append("=").append(v);
  }
  return out;
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::string collapse_whitespace(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool pending_space = false;
  for (char c : s) {
    if (is_py_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

std::optional<std::chrono::sys_seconds> parse_amz_date(std::string_view s) {
  using namespace std::chrono;
  if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z') return std::nullopt;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!parse_digits(s.substr(0, 4), y) || !parse_digits(s.substr(4, 2), mo) || !parse_digits(s.substr(6, 2), d) ||
      !parse_digits(s.substr(9, 2), h) || !parse_digits(s.substr(11, 2), mi) || !parse_digits(s.substr(13, 2), sec)) {
    return std::nullopt;
  }
  if (y < kMinAmzYear || y > kMaxAmzYear) return std::nullopt;
  year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 59) return std::nullopt;
  return sys_days{ymd} + hours{h} + minutes{mi} + seconds{sec};
}

}  // namespace kvsd::auth
