#pragma once
// Base64 for tokens kvsd hands out: the standard alphabet (NextToken patterns of the model,
// [a-zA-Z0-9+/]+={0,2}) and the URL-safe one without padding (HLS/DASH session tokens, which sit
// in query strings unescaped). Pure functions; decoding rejects anything malformed.

#include <optional>
#include <string>
#include <string_view>

namespace kvsd::api {

std::string base64_encode(std::string_view raw);
std::optional<std::string> base64_decode(std::string_view text);

std::string base64url_encode(std::string_view raw);
std::optional<std::string> base64url_decode(std::string_view text);

// [a-zA-Z0-9+/]+={0,2}, 1 to max_chars characters.
bool is_base64_token(std::string_view s, std::size_t max_chars);

}  // namespace kvsd::api
