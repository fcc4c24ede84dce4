#pragma once
// SessionContext: what a connection hands to the HTTP/1.1 or HTTP/2 session that runs on it.
// Lives on the connection's strand for the whole session.

#include <functional>
#include <memory>

#include "http/limits.hpp"
#include "http/request.hpp"

namespace kvsd::obs {
struct HttpMetrics;
}

namespace kvsd::http {

class Dispatcher;

struct SessionContext {
  Dispatcher& dispatcher;
  const Limits& limits;
  obs::HttpMetrics& metrics;
  std::shared_ptr<const ConnectionInfo> info;

  // Graceful shutdown. The connection sets `draining` and then calls `on_drain` (on the strand).
  // A session stops taking new exchanges once draining: HTTP/1.1 closes after the exchange in
  // progress (or at once when idle); HTTP/2 sends GOAWAY and closes when its streams are done.
  bool draining = false;
  std::function<void()> on_drain;
};

}  // namespace kvsd::http
