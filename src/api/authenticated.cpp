#include "api/authenticated.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/error.hpp>
#include <utility>

#include "api/validation.hpp"
#include "auth/crypto.hpp"
#include "http/aws_error.hpp"

namespace kvsd::api {

namespace asio = boost::asio;

auth::SignedRequest to_signed_request(const http::Request& req, std::string payload_sha256_hex) {
  auth::SignedRequest s;
  s.method = req.method;
  s.path = req.path;
  s.query = req.query;
  s.http2 = req.protocol == http::Protocol::http2;
  s.headers.reserve(req.headers.size() + 1);
  for (const auto& [name, value] : req.headers) s.headers.emplace_back(name, value);
  if (s.http2 && !req.headers.contains("host")) s.headers.emplace_back("host", req.authority);
  s.payload_sha256_hex = std::move(payload_sha256_hex);
  return s;
}

namespace {

// The message sent to the client: the verifier's message, plus (like AWS) the canonical request
// and string to sign on a signature mismatch. None of it holds the secret or expected signature.
std::string client_message(const auth::AuthResult& r) {
  std::string m = r.message;
  if (r.failure == auth::AuthFailure::signature_mismatch && !r.canonical_request.empty()) {
    m += "\n\nThe Canonical String for this request should have been\n'" + r.canonical_request +
         "'\n\nThe String-to-Sign should have been\n'" + r.string_to_sign + "'\n";
  }
  return m;
}

asio::awaitable<void> refuse(const http::Request& req, http::ResponseWriter& w, const auth::AuthResult& r) {
  spdlog::info("auth failed: {} {} id={} key={} reason={}: {}", req.method, req.path, req.request_id,
               r.access_key_id.empty() ? "-" : r.access_key_id, auth::to_string(r.failure), r.message);
  const kvs::Error e{auth::to_errc(r.failure), client_message(r)};
  co_await http::send_error(w, e);
}

asio::awaitable<void> guarded(const AuthContext& ctx, std::shared_ptr<const AuthenticatedHandler> inner,
                              BodyHashMode mode, http::Request& req, http::ResponseWriter& w) {
  Authenticated a;
  std::string payload_hash(auth::kEmptySha256Hex);
  if (ctx.enabled && mode == BodyHashMode::buffer_json) {
    // Before the body: refuse what needs no body to refuse.
    const auto early = auth::check_credentials(to_signed_request(req, {}), *ctx.store, ctx.now(), ctx.options);
    if (!early.ok) {
      co_await refuse(req, w, early);
      co_return;
    }
  }
  if (mode == BodyHashMode::buffer_json) {
    const auto read = co_await req.read_all(a.body, ctx.max_json_body, ctx.json_body_timeout);
    if (read.ec) {
      kvs::Error e;
      if (read.ec == asio::error::message_size) {
        e = kvs::Error{kvs::errc::payload_too_large,
                       "request body exceeds " + std::to_string(ctx.max_json_body) + " bytes"};
      } else if (read.ec == asio::error::timed_out) {
        e = kvs::Error{kvs::errc::request_timeout, "the request body did not arrive in time"};
      } else {
        e = kvs::Error{kvs::errc::serialization, "request body could not be read: " + read.ec.message()};
      }
      co_await http::send_error(w, e);
      co_return;
    }
    payload_hash = auth::sha256_hex(a.body);
  }
  if (ctx.enabled) {
    const auto signed_req = to_signed_request(req, std::move(payload_hash));
    const auto now = ctx.now();
    auth::AuthResult r = auth::verify(signed_req, *ctx.store, now, ctx.options);
    if (r.ok && mode == BodyHashMode::buffer_json && !r.presigned &&
        r.signed_payload_sha256 == auth::kUnsignedPayload) {
      r.ok = false;
      r.failure = auth::AuthFailure::signature_mismatch;
      r.message = "UNSIGNED-PAYLOAD is not accepted for this operation: sign the SHA-256 of the request body";
    }
    if (!r.ok) {
      co_await refuse(req, w, r);
      co_return;
    }
    a.access_key_id = std::move(r.access_key_id);
    a.region = std::move(r.region);
  }
  if (req.connection && req.connection->authenticated) req.connection->authenticated->store(true);
  co_await (*inner)(req, w, a);
}

}  // namespace

http::Handler require_sigv4(const AuthContext& ctx, AuthenticatedHandler inner, BodyHashMode mode) {
  auto shared = std::make_shared<const AuthenticatedHandler>(std::move(inner));
  return
      [&ctx, shared, mode](http::Request& req, http::ResponseWriter& w) { return guarded(ctx, shared, mode, req, w); };
}

void add_signed_json_route(http::Router& router, const AuthContext& ctx, const char* path, const char* name,
                           JsonBodyHandler inner) {
  auto parsed = [inner = std::move(inner)](http::Request& req, http::ResponseWriter& w,
                                           Authenticated& a) -> asio::awaitable<void> {
    auto body = validation::parse_object(a.body);
    if (!body) {
      co_await http::send_error(w, body.error());
      co_return;
    }
    co_await inner(req, w, body.value());
  };
  router.add("POST", path, name, require_sigv4(ctx, std::move(parsed), BodyHashMode::buffer_json));
}

}  // namespace kvsd::api
