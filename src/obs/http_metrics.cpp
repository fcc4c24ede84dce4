#include "obs/http_metrics.hpp"

namespace kvsd::obs {

HttpMetrics::HttpMetrics(Registry& r)
    : connections_open(r.gauge("kvsd_connections_open", "Connections currently open.").with({})),
      connections_total(r.counter("kvsd_connections_total", "Connections accepted, by protocol.", {"protocol"})),
      connections_rejected(r.counter("kvsd_connections_rejected_total",
                                     "Connections closed at once: over limits.max_connections_per_address, or at "
                                     "limits.max_connections with every open connection authenticated.")
                               .with({})),
      connections_evicted(r.counter("kvsd_connections_evicted_total",
                                    "Unauthenticated connections closed at limits.max_connections to admit a new one.")
                              .with({})),
      requests_total(r.counter("kvsd_http_requests_total", "Finished requests.", {"route", "status", "protocol"})),
      request_seconds(r.histogram(
          "kvsd_http_request_duration_seconds", "Time from request head to response end.",
          {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600},
          {"route"})),
      bytes_received(r.counter("kvsd_http_received_bytes_total", "Bytes read from client sockets.").with({})),
      bytes_sent(r.counter("kvsd_http_sent_bytes_total", "Bytes written to client sockets.").with({})),
      timeouts_total(r.counter("kvsd_http_timeouts_total", "Connections or streams ended by a timeout.", {"kind"})) {}

void HttpMetrics::observe_request(const std::string& route, unsigned status, const char* protocol, double seconds) {
  requests_total.with({route, std::to_string(status), protocol}).inc();
  request_seconds.with({route}).observe(seconds);
}

}  // namespace kvsd::obs
