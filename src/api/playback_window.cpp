#include "api/playback_window.hpp"

#include <algorithm>
#include <limits>

namespace kvsd::api {

namespace {

constexpr std::size_t kReplayHeadStart = 3;      // fragments a LIVE_REPLAY lists at once
constexpr std::int64_t kMaxFragmentMs = 20'000;  // a fragment's longest duration (ingest limit)
constexpr std::size_t kPage = 1000;

std::int64_t duration_or_default(const kvs::FragmentRecord& f) { return f.duration_ms > 0 ? f.duration_ms : 1000; }

// A fragment's duration counts its last frame of any track; audio usually runs a little past the
// next fragment's start. Listed segments end where the next one starts when that is sooner, so
// EXTINF and the DASH timeline add up to the media timeline without overlaps.
void trim_to_next(media::PlaylistSegment& seg, std::int64_t next_start_ms) {
  const auto gap = next_start_ms - seg.start_ms;
  if (gap > 0 && gap < seg.duration_ms) seg.duration_ms = gap;
}

}  // namespace

std::int64_t chosen_timestamp(const kvs::FragmentRecord& f, kvs::TimestampKind kind) {
  return kind == kvs::TimestampKind::producer ? f.producer_timestamp_ms : f.server_timestamp_ms;
}

struct PlaybackWindows::State {
  std::mutex mutex;
  std::int64_t last_used_ms = 0;
  bool started = false;
  std::deque<WindowSegment> window;
  std::uint64_t next_sequence = 0;
  std::uint64_t discontinuity_sequence = 0;
  std::string newest_number;  // LIVE: newest fragment seen (arrival order)
  // LIVE_REPLAY
  std::int64_t replay_wall_start_ms = 0;
  std::int64_t replay_media_start_ms = 0;
  std::int64_t replay_next_from_ms = 0;  // next fragment to fetch starts at or after this
  std::deque<kvs::FragmentRecord> replay_pending;
  bool replay_source_done = false;
};

std::shared_ptr<PlaybackWindows::State> PlaybackWindows::state_for(const PlaybackSession& session,
                                                                   std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  if (states_.size() >= max_states_ && !states_.count(session.id)) {
    // Drop expired states first, then the least recently used one.
    for (auto it = states_.begin(); it != states_.end();) {
      if (it->second->last_used_ms + 300'000 < now_ms)
        it = states_.erase(it);
      else
        ++it;
    }
    if (states_.size() >= max_states_) {
      auto oldest = std::min_element(states_.begin(), states_.end(), [](const auto& a, const auto& b) {
        return a.second->last_used_ms < b.second->last_used_ms;
      });
      states_.erase(oldest);
    }
  }
  auto& s = states_[session.id];
  if (!s) s = std::make_shared<State>();
  s->last_used_ms = now_ms;
  return s;
}

namespace {

using State = PlaybackWindows::State;

WindowSegment make_segment(const kvs::FragmentRecord& f, const PlaybackSession& session, std::uint64_t sequence) {
  WindowSegment w;
  w.segment.fragment_number = f.fragment_number;
  w.segment.start_ms = chosen_timestamp(f, session.kind);
  w.segment.duration_ms = duration_or_default(f);
  w.segment.header_id = f.header_id;
  w.segment.sequence = sequence;
  w.record = f;
  return w;
}

// ON_DEMAND: the range from its start, one page of max_results; the playlist ends.
kvs::Result<PlaylistWindow> on_demand_window(kvs::FragmentStore& store, const PlaybackSession& session) {
  PlaylistWindow out;
  kvs::FragmentQuery q;
  q.stream_id = session.stream_id;
  q.kind = session.kind;
  q.from_ms = session.start_ms.value_or(0);
  q.to_ms = session.end_ms.value_or(std::numeric_limits<std::int64_t>::max());
  q.limit = session.max_results;
  auto page = store.list(q);
  if (!page) return page.error();
  std::uint64_t seq = 0;
  for (const auto& f : page->fragments) {
    if (!out.segments.empty()) trim_to_next(out.segments.back().segment, chosen_timestamp(f, session.kind));
    out.segments.push_back(make_segment(f, session, seq++));
  }
  out.ended = true;
  return out;
}

// Appends a fragment to a sliding window of max_results segments, counting the discontinuity
// tags that leave with the segments pushed out. Call with st.mutex held.
void push(State& st, const PlaybackSession& session, const kvs::FragmentRecord& f) {
  if (!st.window.empty()) trim_to_next(st.window.back().segment, chosen_timestamp(f, session.kind));
  st.window.push_back(make_segment(f, session, st.next_sequence++));
  while (st.window.size() > session.max_results) {
    const auto& gone = st.window.front();
    // A discontinuity tag leaves with it: before every segment (ALWAYS), or where the init or
    // timing changed; counting those keeps DISCONTINUITY-SEQUENCE in step with the tags.
    bool had_tag = session.discontinuity == DiscontinuityMode::always;
    if (st.window.size() > 1) {
      const auto& next = st.window[1].segment;
      if (next.header_id != gone.segment.header_id) had_tag = true;
    }
    if (had_tag) ++st.discontinuity_sequence;
    st.window.pop_front();
  }
}

// LIVE, first request: the newest max_results fragments, in arrival order.
kvs::Status start_live(State& st, kvs::FragmentStore& store, const PlaybackSession& session) {
  auto latest = store.latest(session.stream_id);
  if (!latest) return latest.error();
  if (!*latest) return kvs::Unit{};
  kvs::FragmentQuery q;
  q.stream_id = session.stream_id;
  q.kind = kvs::TimestampKind::server;
  q.from_ms = (*latest)->server_timestamp_ms - static_cast<std::int64_t>(session.max_results) * kMaxFragmentMs;
  q.to_ms = std::numeric_limits<std::int64_t>::max();
  q.limit = kPage;
  std::vector<kvs::FragmentRecord> recent;
  for (;;) {
    auto page = store.list(q);
    if (!page) return page.error();
    for (auto& f : page->fragments) recent.push_back(std::move(f));
    if (page->next_cursor.empty()) break;
    q.cursor = page->next_cursor;
  }
  std::sort(recent.begin(), recent.end(),
            [](const auto& a, const auto& b) { return a.fragment_number < b.fragment_number; });
  const auto skip = recent.size() > session.max_results ? recent.size() - session.max_results : 0;
  for (std::size_t i = skip; i < recent.size(); ++i) push(st, session, recent[i]);
  if (!recent.empty()) st.newest_number = recent.back().fragment_number;
  return kvs::Unit{};
}

// LIVE, later requests: every fragment that arrived since the newest one seen.
kvs::Status follow_live(State& st, kvs::FragmentStore& store, const PlaybackSession& session) {
  for (;;) {
    auto page = store.list_after(session.stream_id, st.newest_number, kPage);
    if (!page) return page.error();
    for (const auto& f : *page) push(st, session, f);
    if (!page->empty()) st.newest_number = page->back().fragment_number;
    if (page->size() < kPage) break;
  }
  return kvs::Unit{};
}

// LIVE_REPLAY: fetches what the range holds beyond the pending queue (more arrive while it runs
// into live), then releases the first few at once and each later one when its media time has
// passed on the wall clock.
kvs::Status advance_replay(State& st, kvs::FragmentStore& store, const PlaybackSession& session, std::int64_t now_ms) {
  if (!st.started) {
    st.started = true;
    st.replay_wall_start_ms = now_ms;
    st.replay_next_from_ms = session.start_ms.value_or(0);
    st.replay_media_start_ms = std::numeric_limits<std::int64_t>::min();
  }
  if (st.replay_pending.size() < 64 && !st.replay_source_done) {
    kvs::FragmentQuery q;
    q.stream_id = session.stream_id;
    q.kind = session.kind;
    q.from_ms = st.replay_next_from_ms;
    q.to_ms = session.end_ms.value_or(std::numeric_limits<std::int64_t>::max());
    q.limit = 256;
    auto page = store.list(q);
    if (!page) return page.error();
    for (auto& f : page->fragments) {
      st.replay_next_from_ms = chosen_timestamp(f, session.kind) + 1;
      st.replay_pending.push_back(std::move(f));
    }
    if (page->fragments.empty() && session.end_ms) st.replay_source_done = true;
  }
  while (!st.replay_pending.empty()) {
    const auto& f = st.replay_pending.front();
    const auto ts = chosen_timestamp(f, session.kind);
    if (st.replay_media_start_ms == std::numeric_limits<std::int64_t>::min()) st.replay_media_start_ms = ts;
    const bool head_start = st.next_sequence < kReplayHeadStart;
    const bool due = ts - st.replay_media_start_ms <= now_ms - st.replay_wall_start_ms;
    if (!head_start && !due) break;
    push(st, session, f);
    st.replay_pending.pop_front();
  }
  return kvs::Unit{};
}

}  // namespace

kvs::Result<PlaylistWindow> PlaybackWindows::compute(kvs::FragmentStore& store, const PlaybackSession& session,
                                                     std::int64_t now_ms) {
  if (session.mode == PlaybackMode::on_demand) return on_demand_window(store, session);

  auto st = state_for(session, now_ms);
  std::lock_guard lock(st->mutex);
  PlaylistWindow out;
  if (session.mode == PlaybackMode::live) {
    const bool first = !st->started;
    st->started = true;
    auto ok = first ? start_live(*st, store, session) : follow_live(*st, store, session);
    if (!ok) return ok.error();
  } else {
    auto ok = advance_replay(*st, store, session, now_ms);
    if (!ok) return ok.error();
    out.ended = st->replay_source_done && st->replay_pending.empty();
  }
  out.segments.assign(st->window.begin(), st->window.end());
  out.discontinuity_sequence = st->discontinuity_sequence;
  return out;
}

}  // namespace kvsd::api
