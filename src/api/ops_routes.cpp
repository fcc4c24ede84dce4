#include "api/ops_routes.hpp"

namespace kvsd::api {

namespace asio = boost::asio;

void add_ops_routes(http::Router& router, const obs::Registry& metrics) {
  router.add("GET", "/healthz", "healthz", [](http::Request&, http::ResponseWriter& w) -> asio::awaitable<void> {
    http::Headers h{{"content-type", "text/plain; charset=utf-8"}, {"cache-control", "no-store"}};
    std::string body = "ok\n";
    co_await w.send(200, std::move(h), std::move(body));
  });
  router.add("GET", "/metrics", "metrics",
             [&metrics](http::Request&, http::ResponseWriter& w) -> asio::awaitable<void> {
               http::Headers h{{"content-type", "text/plain; version=0.0.4; charset=utf-8"}};
               std::string body = metrics.render();
               co_await w.send(200, std::move(h), std::move(body));
             });
}

}  // namespace kvsd::api
