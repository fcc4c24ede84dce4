#include "test_routes.hpp"

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdlib>
#include <string>
#include <vector>

namespace kvsd::testing {

namespace asio = boost::asio;

namespace {

std::size_t query_number(const std::string& query, const std::string& name, std::size_t fallback) {
  std::size_t pos = 0;
  while (pos <= query.size()) {
    const auto amp = query.find('&', pos);
    const auto part = query.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
    const auto eq = part.find('=');
    if (eq != std::string::npos && part.substr(0, eq) == name) {
      return static_cast<std::size_t>(std::strtoull(part.c_str() + eq + 1, nullptr, 10));
    }
    if (amp == std::string::npos) break;
    pos = amp + 1;
  }
  return fallback;
}

asio::awaitable<void> sleep_ms(std::size_t ms) {
  asio::steady_timer t(co_await asio::this_coro::executor);
  t.expires_after(std::chrono::milliseconds(ms));
  co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
}

asio::awaitable<void> echo(http::Request& req, http::ResponseWriter& w) {
  http::Headers h{{"content-type", "application/octet-stream"}};
  if (co_await w.start(200, std::move(h))) co_return;
  std::vector<std::byte> buf(64 * 1024);
  for (;;) {
    auto r = co_await req.body->read_some(buf);
    if (r.ec || r.bytes == 0) break;
    if (co_await w.write(std::string_view(reinterpret_cast<const char*>(buf.data()), r.bytes))) co_return;
  }
  co_await w.finish();
}

asio::awaitable<void> sink(http::Request& req, http::ResponseWriter& w) {
  const auto delay = query_number(req.query, "delay_ms", 0);
  const auto chunk = std::max<std::size_t>(1, std::min<std::size_t>(query_number(req.query, "chunk", 65536), 1 << 20));
  std::vector<std::byte> buf(chunk);
  std::size_t total = 0;
  for (;;) {
    auto r = co_await req.body->read_some(buf);
    if (r.ec) {
      http::Headers h{{"content-type", "text/plain"}};
      std::string text = "body read failed: " + r.ec.message() + "\n";
      co_await w.send(400, std::move(h), std::move(text));
      co_return;
    }
    if (r.bytes == 0) break;
    total += r.bytes;
    if (delay > 0) co_await sleep_ms(delay);
  }
  http::Headers h{{"content-type", "application/json"}};
  std::string json = "{\"bytes\":" + std::to_string(total) + "}";
  co_await w.send(200, std::move(h), std::move(json));
}

asio::awaitable<void> source(http::Request& req, http::ResponseWriter& w) {
  std::size_t left = query_number(req.query, "bytes", 0);
  http::Headers h{{"content-type", "application/octet-stream"}};
  if (co_await w.start(200, std::move(h))) co_return;
  const std::string block(64 * 1024, 'x');
  while (left > 0) {
    const auto n = std::min(left, block.size());
    if (co_await w.write(std::string_view(block.data(), n))) co_return;
    left -= n;
  }
  co_await w.finish();
}

asio::awaitable<void> sleep_route(http::Request& req, http::ResponseWriter& w) {
  co_await sleep_ms(query_number(req.query, "ms", 0));
  http::Headers h{{"content-type", "text/plain"}};
  std::string text = "slept\n";
  co_await w.send(200, std::move(h), std::move(text));
}

asio::awaitable<void> signed_route(http::Request&, http::ResponseWriter& w, api::Authenticated& a) {
  http::Headers h{{"content-type", "application/json"}};
  std::string json =
      "{\"access_key_id\":\"" + a.access_key_id + "\",\"body_bytes\":" + std::to_string(a.body.size()) + "}";
  co_await w.send(200, std::move(h), std::move(json));
}

asio::awaitable<void> signed_stream(http::Request& req, http::ResponseWriter& w, api::Authenticated&) {
  co_await sink(req, w);
}

}  // namespace

void add_test_routes(http::Router& router, const api::AuthContext& auth) {
  router.add("POST", "/_test/signed", "test_signed",
             api::require_sigv4(auth, signed_route, api::BodyHashMode::buffer_json));
  router.add("POST", "/_test/signed_stream", "test_signed_stream",
             api::require_sigv4(auth, signed_stream, api::BodyHashMode::empty_payload));
  router.add("POST", "/_test/echo", "test_echo", echo);
  router.add("POST", "/_test/sink", "test_sink", sink);
  router.add("GET", "/_test/source", "test_source", source);
  router.add("GET", "/_test/sleep", "test_sleep", sleep_route);
}

}  // namespace kvsd::testing
