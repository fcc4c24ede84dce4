#include "api/base64.hpp"

#include <openssl/evp.h>

namespace kvsd::api {

std::string base64_encode(std::string_view raw) {
  std::string out(4 * ((raw.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(raw.data()), static_cast<int>(raw.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    const bool pad = c == '=' && i + 2 >= text.size() && (i + 1 == text.size() || text[i + 1] == '=');
    if (!(alnum || c == '+' || c == '/' || pad)) return std::nullopt;
  }
  std::string out(3 * text.size() / 4 + 1, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  auto len = static_cast<std::size_t>(n);
  // EVP_DecodeBlock counts padding as zero bytes.
  for (std::size_t i = text.size(); i > 0 && text[i - 1] == '='; --i) --len;
  out.resize(len);
  return out;
}

std::string base64url_encode(std::string_view raw) {
  auto s = base64_encode(raw);
  while (!s.empty() && s.back() == '=') s.pop_back();
  for (auto& c : s) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return s;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  std::string s(text);
  for (auto& c : s) {
    if (c == '-') {
      c = '+';
    } else if (c == '_') {
      c = '/';
    } else if (c == '+' || c == '/' || c == '=') {
      return std::nullopt;
    }
  }
  while (s.size() % 4 != 0) s.push_back('=');
  return base64_decode(s);
}

bool is_base64_token(std::string_view s, std::size_t max_chars) {
  if (s.empty() || s.size() > max_chars) return false;
  std::size_t pad = 0;
  for (char c : s) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (c == '=') {
      ++pad;
    } else if (pad > 0 || !(alnum || c == '+' || c == '/')) {
      return false;
    }
  }
  return pad <= 2 && pad < s.size();
}

}  // namespace kvsd::api
