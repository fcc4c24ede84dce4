#pragma once
// The pure string rules of SigV4 canonicalisation. Used by verify() (sigv4.cpp) and exposed for
// unit tests and for a future signer. No allocation limits here: inputs are already bounded by
// the HTTP layer's header limits, and verify() bounds the counts (VerifyOptions).

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kvsd::auth {

// One query parameter, percent-decoded ('+' is a literal plus, not a space; a '%' not followed by
// two hex digits is a literal '%').
struct QueryParam {
  std::string key;
  std::string value;
};

// Splits a raw query (the part after '?', without '#') on '&'; a piece without '=' is a key with an
// empty value; empty pieces are skipped. Stops after max_params parameters and reports overflow.
struct ParsedQuery {
  std::vector<QueryParam> params;
  bool too_many = false;
};
ParsedQuery parse_query(std::string_view raw_query, std::size_t max_params);

// AWS URI encoding: unreserved bytes (A-Z a-z 0-9 - _ . ~) stay, every other byte becomes %XX with
// upper-case hex. With encode_slash false, '/' stays as is (for paths).
std::string uri_encode(std::string_view s, bool encode_slash = true);
std::string percent_decode(std::string_view s);

// The canonical query string: every parameter decoded then re-encoded with uri_encode (so the
// client's choice of escapes, e.g. %2f vs %2F or a raw '/', does not matter), sorted by encoded key
// then encoded value, joined as k=v with '&'. Parameters whose decoded key equals exclude_key
// (case-sensitive; for presigned requests "X-Amz-Signature") are left out.
std::string canonical_query_string(const std::vector<QueryParam>& params, std::string_view exclude_key = {});

// Leading and trailing spaces and tabs removed.
std::string_view trim(std::string_view s) noexcept;
// botocore's Trimall: ' '.join(value.split()) - ends trimmed, inner whitespace runs become one space.
std::string collapse_whitespace(std::string_view s);

// Parses the ISO 8601 basic form SigV4 uses, "yyyymmddThhmmssZ" (UTC), exactly 16 characters.
// Years outside kMinAmzYear..kMaxAmzYear are refused: system_clock's nanosecond time points end in
// 2262, and comparing a later date with the clock would overflow (found by the sigv4 fuzzer with
// year 4048).
inline constexpr int kMinAmzYear = 1970;
inline constexpr int kMaxAmzYear = 2200;
std::optional<std::chrono::sys_seconds> parse_amz_date(std::string_view s);

}  // namespace kvsd::auth
