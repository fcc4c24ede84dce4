#include "control_plane_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>

#include "auth/crypto.hpp"
#include "auth/signer.hpp"

namespace kvsput {
namespace {

namespace http = beast::http;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::chrono::seconds kCallTimeout{30};

template <class Stream>
asio::awaitable<HttpResult> exchange(Stream& stream, http::request<http::string_body>& req) {
  HttpResult r;
  beast::get_lowest_layer(stream).expires_after(kCallTimeout);
  auto [wec, wn] = co_await http::async_write(stream, req, kTuple);
  if (wec) {
    r.error = "sending " + std::string(req.target()) + ": " + wec.message();
    co_return r;
  }
  beast::flat_buffer buf;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxResponseBytes);
  auto [rec, rn] = co_await http::async_read(stream, buf, parser, kTuple);
  if (rec) {
    r.error = "reading the response to " + std::string(req.target()) + ": " + rec.message();
    co_return r;
  }
  r.status = static_cast<int>(parser.get().result_int());
  r.body = std::move(parser.get().body());
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
  co_return r;
}

}  // namespace

void sign_headers(const ClientContext& ctx, std::string_view path, std::string_view payload_sha256_hex,
                  std::vector<std::pair<std::string, std::string>>& headers) {
  if (ctx.credentials.access_key_id.empty()) return;
  const auto now = std::chrono::system_clock::now();
  headers.emplace_back("X-Amz-Date", kvsd::auth::format_amz_date(now));
  kvsd::auth::SigningRequest sreq;
  sreq.method = "POST";
  sreq.path = path;
  sreq.headers = headers;
  sreq.payload_sha256_hex = std::string(payload_sha256_hex);
  kvsd::auth::SigningScope scope;
  scope.region = ctx.region;
  const auto signed_parts = kvsd::auth::sign(sreq, ctx.credentials, scope, now);
  headers.emplace_back("Authorization", signed_parts.authorization);
  if (!ctx.session_token.empty()) headers.emplace_back("x-amz-security-token", ctx.session_token);
}

asio::awaitable<HttpResult> post_json(const ClientContext& ctx, const Endpoint& ep, std::string_view path,
                                      const std::string& body) {
  const std::string target = ep.base_path + std::string(path);
  std::vector<std::pair<std::string, std::string>> headers = {{"host", ep.host}, {"user-agent", ctx.user_agent}};
  sign_headers(ctx, target, kvsd::auth::sha256_hex(body), headers);

  auto value = [&](std::string_view name) -> std::string {
    for (const auto& [n, v] : headers) {
      if (n == name) return v;
    }
    return {};
  };
  // The C producer's header order (curl's Host and Accept, then its sorted list).
  http::request<http::string_body> req{http::verb::post, target, 11};
  req.set(http::field::host, ep.host);
  req.set(http::field::accept, "*/*");
  if (auto a = value("Authorization"); !a.empty()) req.set(http::field::authorization, a);
  req.set(http::field::content_length, std::to_string(body.size()));
  req.set(http::field::content_type, "application/json");
  req.set(http::field::user_agent, ctx.user_agent);
  if (auto d = value("X-Amz-Date"); !d.empty()) req.set("X-Amz-Date", d);
  if (auto t = value("x-amz-security-token"); !t.empty()) req.set("x-amz-security-token", t);
  req.body() = body;

  HttpResult r;
  std::string error;
  if (ep.tls) {
    auto stream = co_await connect_tls(ep, *ctx.tls, kCallTimeout, error);
    if (!stream) {
      r.error = error;
      co_return r;
    }
    r = co_await exchange(*stream, req);
    auto [ec] = co_await stream->async_shutdown(kTuple);
    (void)ec;  // peers often close without close_notify
  } else {
    auto stream = co_await connect_tcp(ep, kCallTimeout, error);
    if (!stream) {
      r.error = error;
      co_return r;
    }
    r = co_await exchange(*stream, req);
    beast::error_code ec;
    stream->socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  }
  co_return r;
}

}  // namespace kvsput
