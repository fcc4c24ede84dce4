#pragma once
// Playback sessions of GetHLSStreamingSessionURL / GetDASHStreamingSessionURL: what a session
// token carries and how it is signed. The token is the only credential of the session's GETs:
// base64url(payload) "." base64url(HMAC-SHA256(key, payload)), URL-safe without escaping. The key
// lives in <data_dir>/session.key (32 random bytes, made on first start), so tokens survive a
// restart and cannot be made without it. A token names its stream id, so it cannot be moved to
// another stream; it expires at `expires_ms`.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "kvs/error.hpp"
#include "kvs/fragment_store.hpp"

namespace kvsd::api {

enum class PlaybackProtocol : std::uint8_t { hls, dash };
enum class PlaybackMode : std::uint8_t { live, live_replay, on_demand };
enum class DiscontinuityMode : std::uint8_t { always, never, on_discontinuity };

struct PlaybackSession {
  PlaybackProtocol protocol = PlaybackProtocol::hls;
  std::string id;  // random, names the session's server-side state
  std::uint64_t stream_id = 0;
  PlaybackMode mode = PlaybackMode::live;
  kvs::TimestampKind kind = kvs::TimestampKind::server;
  std::optional<std::int64_t> start_ms;
  std::optional<std::int64_t> end_ms;
  bool mpeg_ts = false;
  DiscontinuityMode discontinuity = DiscontinuityMode::always;
  bool display_timestamp = false;
  bool display_fragment_number = false;  // DASH kvs:fn
  std::uint32_t max_results = 5;
  std::int64_t created_ms = 0;
  std::int64_t expires_ms = 0;
};

class SessionSigner {
 public:
  // Loads the key from `key_path`, creating it (mode 0600) when missing. Throws on I/O failure.
  explicit SessionSigner(const std::string& key_path);
  // A signer with a given key (tests).
  static SessionSigner with_key(std::string key);

  [[nodiscard]] std::string sign(const PlaybackSession& s) const;
  // The session of a valid, unexpired token of `protocol`; else errc::session_token_rejected
  // (403) saying whether it was garbled, forged or expired.
  [[nodiscard]] kvs::Result<PlaybackSession> verify(std::string_view token, PlaybackProtocol protocol,
                                                    std::int64_t now_ms) const;

 private:
  SessionSigner() = default;
  std::string key_;
};

// A fresh random session id (16 hex digits).
std::string new_session_id();

}  // namespace kvsd::api
