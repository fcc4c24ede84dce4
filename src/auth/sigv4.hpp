#pragma once
// Sans-I/O verification of AWS Signature Version 4 (AWS4-HMAC-SHA256) requests, in both forms:
// the Authorization header and the presigned query string (X-Amz-Algorithm, X-Amz-Credential,
// X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders, X-Amz-Signature). No sockets, no HTTP library
// types: the HTTP layer fills a SignedRequest from whatever it received and calls verify().
//
// Canonicalisation choices (see docs of each rule in canonical.hpp):
// - Canonical URI = the raw path exactly as received ("/" if empty). The C producer and botocore
//   both send kinesisvideo paths (/putMedia, /describeStream, ...) already normalised and with
//   nothing to escape, so no re-encoding is done. A path containing '%' or dot segments signed by
//   botocore (which escapes the path once more) would not verify; no KVS operation has one.
// - Canonical query: parameters decoded and re-encoded per AWS rules, sorted (canonical.hpp).
// - Canonical headers: for each name in SignedHeaders, in the order given, the received values of
//   that name (any case) trimmed at the ends and joined with ','. The C producer does not collapse
//   inner whitespace, botocore does (Trimall), so if collapsing changes any value both forms are
//   tried. "host" is the received Host header (or ":authority" for HTTP/2) verbatim: no port is
//   added or removed.
// - HTTP/2: curl does not transmit the hop-by-hop headers the C producer signs on PutMedia; with
//   SignedRequest::http2 set, a signed but absent "connection" is taken as "keep-alive" and an
//   absent "transfer-encoding" as "chunked" (the values the SDK signed).
// - Payload hash: the x-amz-content-sha256 header when present (S3-style clients; a hex value must
//   equal payload_sha256_hex); otherwise payload_sha256_hex; for presigned requests without that
//   header both payload_sha256_hex (botocore's SigV4QueryAuth) and "UNSIGNED-PAYLOAD" (S3-style
//   presigners) are accepted. STREAMING-* (aws-chunked) payloads are rejected as unsupported.
// - x-amz-security-token is accepted whether or not it is signed; it is returned, not validated.
// - Credential scope: <akid>/<yyyymmdd>/<region>/<service>/aws4_request; the date must equal the
//   date part of X-Amz-Date.
// - Time: header form: |now - X-Amz-Date| <= max_skew. Presigned: X-Amz-Date <= now + max_skew and
//   now <= X-Amz-Date + X-Amz-Expires (1..604800 s).
// - The signature is compared in constant time (CRYPTO_memcmp).

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth/credentials.hpp"
#include "auth/crypto.hpp"
#include "kvs/error.hpp"

namespace kvsd::auth {

// The request as received. Views must stay valid for the duration of verify().
struct SignedRequest {
  std::string_view method;  // as received, e.g. "POST" (not case-folded: it is signed as sent)
  std::string_view path;    // raw request path, before '?'
  std::string_view query;   // raw query, after '?' (empty if none)
  // Header fields as received, names in any case, repeated names allowed. For HTTP/2 add
  // "host" = :authority (a ":authority" entry is used when no "host" entry exists).
  std::vector<std::pair<std::string, std::string>> headers;
  // Set for HTTP/2 requests: restores the signed hop-by-hop headers curl drops (see above).
  bool http2 = false;
  // Lowercase hex SHA-256 of the body as the server has it: sha256_hex(body) for buffered JSON
  // bodies; for the streamed PutMedia body, kEmptySha256Hex (what the C producer signs). An empty
  // string means "not known yet": then a hex x-amz-content-sha256 header is accepted unchecked and
  // the caller must compare AuthResult::signed_payload_sha256 with the body hash when it ends.
  std::string payload_sha256_hex;
};

enum class AuthFailure {
  missing,             // no Authorization header and no X-Amz-Signature/X-Amz-Algorithm in the query
  malformed,           // unparsable Authorization/query auth, bad date, unsupported algorithm, ...
  unknown_key,         // the access key id is not in the CredentialStore
  bad_scope,           // scope terminator is not aws4_request, or scope date != X-Amz-Date's date
  wrong_region,        // VerifyOptions::region is set and the scope names another region
  wrong_service,       // the scope names another service
  expired,             // outside the allowed skew, or past a presigned URL's expiry
  payload_mismatch,    // x-amz-content-sha256 disagrees with payload_sha256_hex
  signature_mismatch,  // the signature is wrong (or a signed header is absent)
};

std::string_view to_string(AuthFailure f) noexcept;
// The kvs::errc the HTTP edge maps to the AWS error shape.
kvs::errc to_errc(AuthFailure f) noexcept;

struct AuthResult {
  bool ok = false;
  AuthFailure failure = AuthFailure::missing;  // meaningful only when !ok
  // For humans (logs, error body): never contains the secret or the expected signature.
  std::string message;
  std::string access_key_id;   // as parsed from the credential scope, when it got that far
  std::string region;          // the scope's region, when it got that far
  std::string security_token;  // x-amz-security-token header / X-Amz-Security-Token param, not validated
  bool presigned = false;      // the query-string form was used
  // The payload hash the signature covers (a hex digest or "UNSIGNED-PAYLOAD"), set when ok.
  std::string signed_payload_sha256;
  // On signature_mismatch: the server's canonical request and string to sign (AWS returns both in
  // its SignatureDoesNotMatch message). They hold only what the client sent; never the secret.
  std::string canonical_request;
  std::string string_to_sign;
};

struct VerifyOptions {
  std::string region;  // empty: accept any region in the scope
  std::string service = "kinesisvideo";
  std::chrono::seconds max_skew{900};
  std::size_t max_signed_headers = 64;  // limit on names in SignedHeaders
  std::size_t max_query_params = 256;   // limit on query parameters considered
};

inline constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
inline constexpr std::chrono::seconds kMaxPresignedExpiry{604800};

// Verifies req against the secret of the access key it names. Thread-safe (the store must be);
// no I/O; throws only if OpenSSL fails (allocation).
AuthResult verify(const SignedRequest& req, const CredentialStore& store, std::chrono::system_clock::time_point now,
                  const VerifyOptions& options);

// What verify() checks before it needs the payload: the form and its parameters, the credential
// scope, the time and that the access key is known. ok does not mean the request is authentic
// (the signature is not checked); a failure means verify() would fail the same way. The HTTP edge
// calls it before reading a body, so that an unauthenticated client cannot hold a connection
// open with a slow body.
AuthResult check_credentials(const SignedRequest& req, const CredentialStore& store,
                             std::chrono::system_clock::time_point now, const VerifyOptions& options);

// Building blocks shared with signers and tests.
// The SigV4 string to sign: algorithm, X-Amz-Date, scope, hex sha256 of the canonical request.
std::string string_to_sign(std::string_view amz_date, std::string_view scope, std::string_view canonical_request);
// Lowercase hex signature of string_to_sign with the key derived from secret, date8, region, service.
std::string compute_signature(std::string_view secret, std::string_view date8, std::string_view region,
                              std::string_view service, std::string_view string_to_sign);

}  // namespace kvsd::auth
