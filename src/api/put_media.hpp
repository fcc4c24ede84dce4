#pragma once
// PutMedia (POST /putMedia): the ingest path. The handler validates the headers and the stream,
// answers 200 at once, then runs two coroutines on the connection's strand until the upload
// ends: a reader that feeds body bytes to the MKV ingest parser and hands each completed fragment
// to the FragmentStore, and a writer that streams ACK events (one HTTP chunk / DATA frame each)
// as they occur: BUFFERING when a fragment's Cluster Timecode arrives, RECEIVED when it is
// complete, PERSISTED when the store reports it durable (only for streams with retention > 0),
// ERROR with the spec's ErrorId (then the exchange ends cleanly), IDLE while no data flows.
//
// Blocking work (stream lookups, replay checks) goes through exec::offload; persistence through
// FragmentStore::persist_async, whose completions are posted back to the strand. PERSISTED ACKs
// are sent in fragment order. The response ends after the body ended and every fragment that
// was RECEIVED got its PERSISTED (or ERROR).

#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <cstdint>
#include <functional>

#include "api/authenticated.hpp"
#include "api/live_feed.hpp"
#include "http/router.hpp"
#include "kvs/fragment_store.hpp"
#include "kvs/stream_store.hpp"
#include "media/mkv_ingest_parser.hpp"
#include "obs/metrics.hpp"

namespace kvsd::api {

// Ingest metrics, registered once in the given registry.
struct PutMediaMetrics {
  explicit PutMediaMetrics(obs::Registry& registry);
  obs::Family<obs::Gauge>& sessions;
  obs::Family<obs::Counter>& fragments;  // label result: persisted, duplicate, failed
  obs::Family<obs::Counter>& bytes;
  obs::Family<obs::Counter>& staged_bytes;  // cluster bytes handed to the store before their fragment completed
  obs::Family<obs::Counter>& errors;        // label error_id
  obs::HistogramFamily& persist_seconds;    // RECEIVED -> durable, as the upload's strand learns it
  obs::HistogramFamily& store_seconds;      // RECEIVED -> the store's answer, on the store's thread
};

// Everything the handler uses; must outlive the router.
struct PutMediaContext {
  const AuthContext* auth = nullptr;
  kvs::StreamStore* streams = nullptr;
  kvs::FragmentStore* fragments = nullptr;
  boost::asio::thread_pool* pool = nullptr;
  media::IngestLimits limits;
  // An IDLE ACK is sent after this long without body bytes or ACKs.
  std::chrono::milliseconds idle_ack_interval{3'000};
  // Body reads start with the small buffer; an upload whose reads keep filling it (a fast
  // sender) gets a larger one, doubling up to the large size. Real-time cameras stay small.
  std::size_t read_buffer_bytes = 64 * 1024;
  std::size_t max_read_buffer_bytes = 1024 * 1024;
  // A fragment's bytes go to the store in parts as they arrive (the store writes them while the
  // rest comes), so completing a fragment leaves at most a part to write and sync: a part once
  // max_read_buffer_bytes are unstaged, or this many when the last part left over 10 ms ago (a
  // fast sender's parts are large, a camera's small). 0: whole fragments only.
  std::size_t stage_part_bytes = 256 * 1024;
  PutMediaMetrics* metrics = nullptr;  // optional
  LiveFeed* live = nullptr;            // optional: GetMedia readers get fragments from here
  // Epoch milliseconds (server timestamps); tests may replace it.
  std::function<std::int64_t()> now_ms;
};

void add_put_media_routes(http::Router& router, const PutMediaContext& ctx);

}  // namespace kvsd::api
