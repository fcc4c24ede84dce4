#pragma once
// Which fragments a playback session lists right now, and their session-relative sequence
// numbers (spec archived-media 3.1, 3.4):
// - ON_DEMAND: the first max_results fragments whose start lies in [Start, End]; stateless.
// - LIVE: the newest max_results fragments in arrival order. A fragment older than the newest
//   one listed is never added; the media sequence rises by one per fragment that leaves.
// - LIVE_REPLAY: from Start, fragments are released at the pace of their own timestamps (the
//   first three at once), in a sliding window like LIVE; with End, the list ends (ENDLIST) once
//   every fragment up to End was released; without, it runs on into live data.
// LIVE and LIVE_REPLAY keep a small state per session id in memory (PlaybackWindows); after a
// restart a session starts a new window. States unused for longer than their session's lifetime
// are dropped. Thread-safe; compute() is blocking (index reads) and runs on the offload pool.

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "api/playback_session.hpp"
#include "kvs/fragment_store.hpp"
#include "media/hls_playlist.hpp"

namespace kvsd::api {

struct WindowSegment {
  media::PlaylistSegment segment;
  kvs::FragmentRecord record;
};

struct PlaylistWindow {
  std::vector<WindowSegment> segments;
  std::uint64_t discontinuity_sequence = 0;
  bool ended = false;  // ENDLIST
};

class PlaybackWindows {
 public:
  // At most this many LIVE / LIVE_REPLAY states are kept (the least recently used go first).
  explicit PlaybackWindows(std::size_t max_states = 10'000) : max_states_(max_states) {}

  kvs::Result<PlaylistWindow> compute(kvs::FragmentStore& store, const PlaybackSession& session, std::int64_t now_ms);

  struct State;  // a LIVE or LIVE_REPLAY session's window (defined in the .cpp)

 private:
  std::shared_ptr<State> state_for(const PlaybackSession& session, std::int64_t now_ms);

  std::size_t max_states_;
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<State>> states_;
};

// The chosen timestamp of a fragment for a session.
std::int64_t chosen_timestamp(const kvs::FragmentRecord& f, kvs::TimestampKind kind);

}  // namespace kvsd::api
