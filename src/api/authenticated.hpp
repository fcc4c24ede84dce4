#pragma once
// SigV4 authentication at the HTTP edge: require_sigv4() wraps a handler so that it runs only for
// requests signed with a known access key (auth::verify), and answers the AWS error otherwise
// (403 MissingAuthenticationToken / SignatureDoesNotMatch / RequestExpired, ...).
//
// Two body modes:
// - buffer_json: the whole body (at most AuthContext::max_json_body bytes, else 413; within
//   json_body_timeout, else 408) is read first, its SHA-256 is the signed payload hash, and the
//   inner handler gets the body. A header signature must cover that hash: UNSIGNED-PAYLOAD is
//   refused (403), as AWS does for this service.
//
// In both modes what can be checked without the body (auth::check_credentials: the form, scope,
// time and access key) is checked before any body byte is read, and a body declared larger than
// the cap is refused unread: a client without credentials cannot make the server wait for a body.
// - empty_payload: for streamed bodies (PutMedia): the signature is checked with the hash of the
//   empty string, as the C producer signs it, before any body byte is read; the inner handler
//   then reads the body itself from req.body. The streamed bytes are not covered by the signature.

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "auth/credentials.hpp"
#include "auth/sigv4.hpp"
#include "http/router.hpp"

namespace kvsd::api {

// Shared, read-only once the server runs.
struct AuthContext {
  bool enabled = true;  // false: auth none, every request passes
  std::shared_ptr<const auth::CredentialStore> store;
  auth::VerifyOptions options;                          // options.region empty: any region accepted
  std::size_t max_json_body = 256 * 1024;               // limits.json_body_bytes; over: 413
  std::chrono::milliseconds json_body_timeout{20'000};  // timeouts.body_seconds; over: 408
  // The clock; tests may replace it.
  std::function<std::chrono::system_clock::time_point()> now = [] { return std::chrono::system_clock::now(); };
};

enum class BodyHashMode { buffer_json, empty_payload };

// What the inner handler learns from the guard.
struct Authenticated {
  std::string access_key_id;  // empty with auth none
  std::string region;         // the signature's scope region; empty with auth none
  std::string body;           // buffer_json: the whole body; empty_payload: empty (read req.body)
};

using AuthenticatedHandler =
    std::function<boost::asio::awaitable<void>(http::Request&, http::ResponseWriter&, Authenticated&)>;

// The context must outlive the router. With ctx.enabled false the body is still buffered in
// buffer_json mode, so inner handlers see the same thing either way.
http::Handler require_sigv4(const AuthContext& ctx, AuthenticatedHandler inner, BodyHashMode mode);

// A POST route whose body is SigV4-checked (buffer_json) and must be a JSON object (an empty body
// is `{}`; anything else is the AWS SerializationException); `inner` gets the parsed object, which
// lives until it returns.
using JsonBodyHandler =
    std::function<boost::asio::awaitable<void>(http::Request&, http::ResponseWriter&, const nlohmann::json&)>;
void add_signed_json_route(http::Router& router, const AuthContext& ctx, const char* path, const char* name,
                           JsonBodyHandler inner);

// Builds the verifier's view of a request (host = :authority for HTTP/2). Exposed for tests.
auth::SignedRequest to_signed_request(const http::Request& req, std::string payload_sha256_hex);

}  // namespace kvsd::api
