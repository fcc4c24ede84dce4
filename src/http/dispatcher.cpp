#include "http/dispatcher.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <exception>

#include "http/aws_error.hpp"
#include "obs/http_metrics.hpp"

namespace kvsd::http {

namespace asio = boost::asio;

namespace {

std::string next_request_id() {
  // Unique per process run: start time + sequence, formatted like a UUID so clients that expect
  // one (x-amzn-RequestId) parse it.
  static const auto epoch = static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
  static std::atomic<std::uint64_t> seq{0};
  const std::uint64_t n = seq.fetch_add(1, std::memory_order_relaxed);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-8%03x-%012llx", static_cast<unsigned>(epoch >> 32),
                static_cast<unsigned>((epoch >> 16) & 0xffff), static_cast<unsigned>(epoch & 0xfff),
                static_cast<unsigned>((epoch >> 12) & 0xfff), static_cast<unsigned long long>(n & 0xffffffffffffULL));
  return buf;
}

}  // namespace

Headers cors_headers(std::string_view origin) {
  Headers h;
  h.add("access-control-allow-origin", origin.empty() ? "*" : std::string(origin));
  h.add("vary", "Origin");
  h.add("access-control-expose-headers",
        "x-amzn-RequestId, x-amzn-ErrorType, x-amz-request-id, Content-Length, Content-Type, Date");
  return h;
}

asio::awaitable<void> Dispatcher::dispatch(Request& req, ResponseWriter& w) {
  const auto t0 = std::chrono::steady_clock::now();
  req.request_id = next_request_id();

  Headers defaults{{"x-amzn-RequestId", req.request_id}, {"server", "kvsd"}};
  const auto origin = req.headers.get("origin");
  if (origin) {
    for (const auto& [n, v] : cors_headers(*origin)) defaults.add(n, v);
  }
  w.set_default_headers(std::move(defaults));

  std::string route_name = "unmatched";
  if (req.method == "OPTIONS" && origin && req.headers.contains("access-control-request-method")) {
    route_name = "cors_preflight";
    Headers h{{"access-control-allow-methods", "GET, POST, PUT, DELETE, HEAD, OPTIONS"},
              {"access-control-max-age", "86400"}};
    auto asked = req.headers.get("access-control-request-headers");
    h.add("access-control-allow-headers", asked ? std::string(*asked) : std::string("*"));
    std::string empty;
    co_await w.send(204, std::move(h), std::move(empty));
  } else {
    const Route* route = nullptr;
    switch (router_.match(req.method, req.path, &route)) {
      case Router::Match::found: {
        route_name = route->name;
        std::exception_ptr escaped;
        try {
          co_await route->handler(req, w);
        } catch (...) {
          escaped = std::current_exception();
        }
        if (escaped) {
          std::string what = "unknown exception";
          try {
            std::rethrow_exception(escaped);
          } catch (const std::exception& e) {
            what = e.what();
          } catch (...) {
          }
          spdlog::error("handler {} failed: {} (request {})", route->name, what, req.request_id);
          if (!w.started()) {
            kvs::Error err{kvs::errc::internal, "internal error, request " + req.request_id};
            co_await send_error(w, err);
          }
        }
        if (!w.started()) {
          spdlog::error("handler {} returned without a response (request {})", route->name, req.request_id);
          kvs::Error err{kvs::errc::internal, "handler produced no response"};
          co_await send_error(w, err);
        } else if (!w.finished()) {
          co_await w.finish();
        }
        break;
      }
      case Router::Match::wrong_method: {
        kvs::Error err{kvs::errc::method_not_allowed, "method " + req.method + " not allowed on " + req.path};
        co_await send_error(w, err);
        break;
      }
      case Router::Match::not_found: {
        kvs::Error err{kvs::errc::unknown_operation, "no operation at " + req.path};
        co_await send_error(w, err);
        break;
      }
    }
  }

  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  metrics_.observe_request(route_name, w.status(), to_string(req.protocol), seconds);
  if (!access_log_) co_return;
  spdlog::info("access {} {} {} status={} bytes={} ms={:.2f} proto={} peer={} id={}", req.method, req.path, route_name,
               w.status(), w.body_bytes(), seconds * 1000.0, to_string(req.protocol),
               req.connection ? req.connection->remote_address : std::string("-"), req.request_id);
}

}  // namespace kvsd::http
