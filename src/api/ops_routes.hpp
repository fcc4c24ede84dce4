#pragma once
// Operational routes: GET /healthz (liveness) and GET /metrics (Prometheus text format).
// /healthz never needs authentication. /metrics is open unless a token is configured
// (metrics.token): then it needs `Authorization: Bearer <token>` (what Prometheus sends with
// `authorization: {credentials: ...}`), else 401 with `www-authenticate: Bearer`.

#include <string>

#include "http/router.hpp"
#include "obs/metrics.hpp"

namespace kvsd::api {

// `metrics_token` empty: /metrics is open. The registry must outlive the router.
void add_ops_routes(http::Router& router, const obs::Registry& metrics, std::string metrics_token = {});

}  // namespace kvsd::api
