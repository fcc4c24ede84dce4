#pragma once
// The metric families of the HTTP front end, registered once in a Registry.

#include "obs/metrics.hpp"

namespace kvsd::obs {

struct HttpMetrics {
  explicit HttpMetrics(Registry& r);

  // Records one finished exchange.
  void observe_request(const std::string& route, unsigned status, const char* protocol, double seconds);

  Gauge& connections_open;
  Family<Counter>& connections_total;  // {protocol}
  Counter& connections_rejected;       // over a connection limit (total or per address)
  Counter& connections_evicted;        // unauthenticated, closed at the limit to admit a new one
  Family<Counter>& requests_total;     // {route, status, protocol}
  HistogramFamily& request_seconds;    // {route}
  Counter& bytes_received;
  Counter& bytes_sent;
  // {kind}: idle, header, body_stall, body_deadline, write_stall, linger, tls_handshake
  Family<Counter>& timeouts_total;
};

}  // namespace kvsd::obs
