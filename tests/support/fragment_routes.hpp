#pragma once
// Test-only read-back of stored fragments (kvsd-testserver; no authentication), so integration
// tests can check what ingest stored before the KVS read APIs exist:
//   GET /_test/fragments?stream=NAME        JSON {"Fragments":[{FragmentNumber, ClusterTimecode,
//                                           ProducerTimestampMs, ServerTimestampMs, DurationMs,
//                                           SizeBytes, Sha256 (of the stored cluster bytes),
//                                           HeaderSha256, Tracks, Metadata}]} in producer-timestamp
//                                           order; 404 when the stream does not exist
//   GET /_test/fragment?stream=NAME&number=N  the stored cluster bytes
//   GET /_test/header?stream=NAME&number=N    the stored header bytes that fragment follows

#include "app/app.hpp"
#include "http/router.hpp"

namespace kvsd::testing {

void add_fragment_routes(http::Router& router, app::App& app);

}  // namespace kvsd::testing
