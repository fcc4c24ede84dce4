#include "api/ops_routes.hpp"

#include "auth/crypto.hpp"

namespace kvsd::api {

namespace asio = boost::asio;

namespace {

// Whether the request carries `Authorization: Bearer <token>` (the scheme in any case).
bool bearer_matches(const http::Request& req, const std::string& token) {
  const auto value = req.headers.get("authorization");
  if (!value) return false;
  static constexpr std::string_view kScheme = "bearer ";
  if (value->size() <= kScheme.size() || !http::iequals(value->substr(0, kScheme.size()), kScheme)) return false;
  return auth::constant_time_equal(value->substr(kScheme.size()), token);
}

}  // namespace

void add_ops_routes(http::Router& router, const obs::Registry& metrics, std::string metrics_token) {
  router.add("GET", "/healthz", "healthz", [](http::Request&, http::ResponseWriter& w) -> asio::awaitable<void> {
    http::Headers h{{"content-type", "text/plain; charset=utf-8"}, {"cache-control", "no-store"}};
    std::string body = "ok\n";
    co_await w.send(200, std::move(h), std::move(body));
  });
  router.add("GET", "/metrics", "metrics",
             [&metrics, token = std::move(metrics_token)](http::Request& req,
                                                          http::ResponseWriter& w) -> asio::awaitable<void> {
               if (!token.empty() && !bearer_matches(req, token)) {
                 http::Headers h{{"content-type", "text/plain; charset=utf-8"},
                                 {"www-authenticate", "Bearer realm=\"kvsd metrics\""}};
                 std::string body = "metrics need Authorization: Bearer <metrics.token>\n";
                 co_await w.send(401, std::move(h), std::move(body));
                 co_return;
               }
               http::Headers h{{"content-type", "text/plain; version=0.0.4; charset=utf-8"}};
               std::string body = metrics.render();
               co_await w.send(200, std::move(h), std::move(body));
             });
}

}  // namespace kvsd::api
