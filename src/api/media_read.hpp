#pragma once
// The read side of the data plane: ListFragments, GetMediaForFragmentList, GetClip
// (kinesis-video-archived-media) and GetMedia (kinesis-video-media). Every route is SigV4-guarded
// with a buffered JSON body; index and blob reads run on the offload pool; stored cluster bytes
// are sent as read, never re-muxed (GetClip remuxes them into MP4 on the pool).

#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <cstdint>
#include <functional>

#include "api/authenticated.hpp"
#include "api/live_feed.hpp"
#include "api/media_read_limits.hpp"
#include "http/router.hpp"
#include "kvs/fragment_store.hpp"
#include "kvs/stream_store.hpp"

namespace kvsd::api {

// Everything the handlers use; must outlive the router.
struct MediaReadContext {
  const AuthContext* auth = nullptr;
  kvs::StreamStore* streams = nullptr;
  kvs::FragmentStore* fragments = nullptr;
  boost::asio::thread_pool* pool = nullptr;
  LiveFeed* live = nullptr;
  MediaReadLimits limits;
  // Epoch milliseconds; tests may replace it.
  std::function<std::int64_t()> now_ms;
};

void add_media_read_routes(http::Router& router, const MediaReadContext& ctx);

}  // namespace kvsd::api
