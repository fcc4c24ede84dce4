#pragma once
// Dispatcher: runs one exchange for either session type. It assigns the request id, answers CORS
// preflights, finds the route, runs the handler, turns escapes into AWS-shaped 500s, ends
// responses a handler left open, and writes the access log line and request metrics.

#include <boost/asio/awaitable.hpp>

#include "http/request.hpp"
#include "http/response_writer.hpp"
#include "http/router.hpp"

namespace kvsd::obs {
struct HttpMetrics;
}

namespace kvsd::http {

class Dispatcher {
 public:
  // `access_log`: write one info line per finished exchange.
  Dispatcher(const Router& router, obs::HttpMetrics& metrics, bool access_log = true)
      : router_(router), metrics_(metrics), access_log_(access_log) {}

  boost::asio::awaitable<void> dispatch(Request& req, ResponseWriter& w);

 private:
  const Router& router_;
  obs::HttpMetrics& metrics_;
  bool access_log_;
};

// Headers exposed to browsers on every response that carried an Origin.
Headers cors_headers(std::string_view origin);

}  // namespace kvsd::http
