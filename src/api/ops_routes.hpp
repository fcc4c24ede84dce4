#pragma once
// Operational routes: GET /healthz (liveness) and GET /metrics (Prometheus text format).
// Neither needs authentication; both are cheap and safe to scrape often.

#include "http/router.hpp"
#include "obs/metrics.hpp"

namespace kvsd::api {

void add_ops_routes(http::Router& router, const obs::Registry& metrics);

}  // namespace kvsd::api
