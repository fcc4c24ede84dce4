#pragma once
// HLS and DASH playback: GetHLSStreamingSessionURL and GetDASHStreamingSessionURL (SigV4, JSON)
// hand out session URLs; the session's GETs under /hls/v1/ and /dash/v1/ need only the session
// token: master and media playlists, the MPD, fMP4 init and media fragments and MPEG-TS chunks,
// all generated on request from the stored cluster bytes (no decoding). Index and blob reads and
// segment generation run on the offload pool.

#include <cstdint>
#include <string>

#include "api/media_read.hpp"
#include "api/playback_session.hpp"
#include "api/playback_window.hpp"

namespace kvsd::api {

struct PlaybackContext {
  const MediaReadContext* read = nullptr;  // stores, pool, auth, clock
  const SessionSigner* signer = nullptr;
  PlaybackWindows* windows = nullptr;
  std::string public_endpoint;  // empty: derived from the request, as GetDataEndpoint does
  // LIVE needs a fragment that arrived within this long (else 404 ResourceNotFoundException).
  std::int64_t live_recent_ms = 30'000;
};

void add_playback_routes(http::Router& router, const PlaybackContext& ctx);

}  // namespace kvsd::api
