#pragma once
// Sans-I/O SigV4 (AWS4-HMAC-SHA256) signing of a request in the header form, the way the stock KVS
// C producer does it: canonical header values are trimmed at the ends only (inner whitespace is
// kept), names are lower-cased and sorted, the query is canonicalised like verify() does, and the
// payload hash is whatever the caller passes (sha256_hex(body) for JSON calls, kEmptySha256Hex for
// the streamed PutMedia body). Counterpart of verify() in sigv4.hpp; shares its building blocks.
//
// Thread-safe (no shared state); throws only if OpenSSL fails (allocation).

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth/credentials.hpp"

namespace kvsd::auth {

struct SigningRequest {
  std::string_view method;  // e.g. "POST", signed as given
  std::string_view path;    // raw path, "/" when empty
  std::string_view query;   // raw query after '?', empty if none
  // The headers to sign (any case; repeated names are joined with ','). They must include
  // x-amz-date with the value of format_amz_date(at) and host exactly as it will be sent.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string payload_sha256_hex;  // lowercase hex
};

struct SigningScope {
  std::string region = "us-west-2";
  std::string service = "kinesisvideo";
};

struct SignedParts {
  std::string authorization;   // value of the Authorization header
  std::string signed_headers;  // "a;b;c"
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;  // lowercase hex
};

// "yyyymmddThhmmssZ" (UTC) of tp, truncated to whole seconds.
std::string format_amz_date(std::chrono::system_clock::time_point tp);

// True for the header names the C producer leaves out of SignedHeaders: Authorization,
// content-type, content-length, x-amz-security-token (case-insensitive), plus the ones libcurl
// adds after signing (accept, expect).
bool c_producer_skips_header(std::string_view name) noexcept;

// Signs req as of `at` (must be the instant whose format_amz_date is in req's x-amz-date header).
SignedParts sign(const SigningRequest& req, const Credentials& credentials, const SigningScope& scope,
                 std::chrono::system_clock::time_point at);

}  // namespace kvsd::auth
