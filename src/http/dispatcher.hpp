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
  Dispatcher(const Router& router, obs::HttpMetrics& metrics) : router_(router), metrics_(metrics) {}

  boost::asio::awaitable<void> dispatch(Request& req, ResponseWriter& w);

 private:
  const Router& router_;
  obs::HttpMetrics& metrics_;
};

// Headers exposed to browsers on every response that carried an Origin.
Headers cors_headers(std::string_view origin);

}  // namespace kvsd::http
