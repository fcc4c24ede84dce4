// The GETs of HLS and DASH sessions (/hls/v1/..., /dash/v1/...): playlists and the MPD from the
// session's window (playback_window.hpp), fMP4 init / media fragments and MPEG-TS chunks generated
// from the stored header and cluster bytes (media/hls_segments.hpp). Only the SessionToken
// authorizes them; a fragment is served only from the token's stream.

#include <spdlog/spdlog.h>

#include <limits>

#include "api/media_read_common.hpp"
#include "api/playback_common.hpp"
#include "av/ts_segment.hpp"
#include "exec/offload.hpp"
#include "kvs/decimal.hpp"

namespace kvsd::api::detail {

namespace {

namespace asio = boost::asio;
using Query = std::map<std::string, std::string>;

constexpr const char* kPlaylistType = "application/vnd.apple.mpegurl";
constexpr const char* kMp4Type = "video/mp4";
constexpr const char* kTsType = "video/mp2t";
constexpr const char* kMpdType = "application/dash+xml";

// The bytes as a response body, in one memcpy (an iterator-range copy between the two element
// types would go byte by byte).
std::string as_body(const std::vector<std::uint8_t>& bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

// Runs `work` (returning kvs::Result<std::string>) on the pool and sends its body or its error.
template <class Work>
asio::awaitable<void> respond(const PlaybackContext& ctx, http::ResponseWriter& w, const char* content_type,
                              Work& work) {
  auto body = co_await exec::offload(*ctx.read->pool, work);
  if (co_await http::refused(w, body)) co_return;
  co_await send_body(w, content_type, std::move(*body));
}

kvs::Error invalid(std::string message) { return kvs::Error{kvs::errc::invalid_argument, std::move(message)}; }

std::optional<std::uint64_t> number_param(const Query& q, const char* name) {
  const auto it = q.find(name);
  if (it == q.end()) return std::nullopt;
  return kvs::parse_decimal<std::uint64_t>(it->second);
}

std::optional<std::int64_t> signed_param(const Query& q, const char* name) {
  const auto it = q.find(name);
  if (it == q.end()) return std::nullopt;
  return kvs::parse_decimal<std::int64_t>(it->second);
}

media::DiscontinuityRule rule_of(DiscontinuityMode m) {
  switch (m) {
    case DiscontinuityMode::always:
      return media::DiscontinuityRule::always;
    case DiscontinuityMode::never:
      return media::DiscontinuityRule::never;
    case DiscontinuityMode::on_discontinuity:
      return media::DiscontinuityRule::on_gap;
  }
  return media::DiscontinuityRule::always;
}

kvs::Error no_fragments() {
  return kvs::Error{kvs::errc::resource_not_found, "No fragments found in the stream for the streaming request."};
}

// Blocking: the session's window and what the newest (LIVE) or first listed fragment's header
// says about the tracks.
struct Listing {
  PlaylistWindow window;
  AnnouncedTracks tracks;
  std::uint64_t bandwidth_bps = 0;
};

kvs::Result<Listing> list_session(const PlaybackContext& ctx, const PlaybackSession& s) {
  auto& store = *ctx.read->fragments;
  auto window = ctx.windows->compute(store, s, ctx.read->now_ms());
  if (!window) return window.error();
  if (window->segments.empty()) return no_fragments();
  const auto& pick = s.mode == PlaybackMode::on_demand ? window->segments.front() : window->segments.back();
  auto header = store.read_header(s.stream_id, pick.record.header_id);
  if (!header) return header.error();
  std::vector<kvs::FragmentRecord> sample;
  std::uint64_t peak = 0;
  for (std::size_t i = 0; i < window->segments.size() && i < 32; ++i) {
    const auto& f = window->segments[i].record;
    sample.push_back(f);
    if (f.duration_ms > 0)
      peak = std::max<std::uint64_t>(peak, f.size_bytes * 8000 / static_cast<std::uint64_t>(f.duration_ms));
  }
  auto tracks = announced_tracks(*header, s.mpeg_ts, sample);
  if (!tracks) return tracks.error();
  return Listing{std::move(*window), std::move(*tracks), peak};
}

using GetHandler = asio::awaitable<void> (*)(const PlaybackContext&, const PlaybackSession&, const Query&,
                                             http::ResponseWriter&);

asio::awaitable<void> master_playlist(const PlaybackContext& ctx, const PlaybackSession& s, const Query& q,
                                      http::ResponseWriter& w) {
  auto work = [&ctx, &s] { return list_session(ctx, s); };
  auto listing = co_await exec::offload(*ctx.read->pool, work);
  if (co_await http::refused(w, listing)) co_return;
  auto text = media::master_playlist(q.at("SessionToken"), s.mpeg_ts, listing->tracks.main, listing->tracks.audio,
                                     listing->bandwidth_bps);
  co_await send_body(w, kPlaylistType, std::move(text));
}

asio::awaitable<void> media_playlist(const PlaybackContext& ctx, const PlaybackSession& s, const Query& q,
                                     http::ResponseWriter& w) {
  const auto track = number_param(q, "TrackNumber").value_or(1);
  auto work = [&ctx, &s] { return ctx.windows->compute(*ctx.read->fragments, s, ctx.read->now_ms()); };
  auto window = co_await exec::offload(*ctx.read->pool, work);
  if (co_await http::refused(w, window)) co_return;
  if (window->segments.empty()) {
    co_await http::send_error(w, no_fragments());
    co_return;
  }
  std::vector<media::PlaylistSegment> segments;
  segments.reserve(window->segments.size());
  for (const auto& seg : window->segments) segments.push_back(seg.segment);
  media::MediaPlaylistSpec spec;
  spec.token = q.at("SessionToken");
  spec.track_number = track;
  spec.mpeg_ts = s.mpeg_ts;
  spec.vod = s.mode == PlaybackMode::on_demand;
  spec.ended = window->ended;
  spec.discontinuity = rule_of(s.discontinuity);
  spec.program_date_time = s.display_timestamp;
  spec.discontinuity_sequence = window->discontinuity_sequence;
  co_await send_body(w, kPlaylistType, media::media_playlist(spec, segments));
}

asio::awaitable<void> dash_manifest(const PlaybackContext& ctx, const PlaybackSession& s, const Query& q,
                                    http::ResponseWriter& w) {
  auto work = [&ctx, &s] { return list_session(ctx, s); };
  auto listing = co_await exec::offload(*ctx.read->pool, work);
  if (co_await http::refused(w, listing)) co_return;
  std::vector<media::PlaylistSegment> segments;
  for (const auto& seg : listing->window.segments) segments.push_back(seg.segment);
  media::DashSpec spec;
  spec.token = q.at("SessionToken");
  spec.dynamic = s.mode != PlaybackMode::on_demand && !listing->window.ended;
  spec.display_timestamp = s.display_timestamp;
  spec.display_fragment_number = s.display_fragment_number;
  spec.now_ms = ctx.read->now_ms();
  spec.bandwidth_bps = listing->bandwidth_bps;
  co_await send_body(w, kMpdType, media::dash_manifest(spec, listing->tracks.main, listing->tracks.audio, segments));
}

asio::awaitable<void> init_fragment(const PlaybackContext& ctx, const PlaybackSession& s, const Query& q,
                                    http::ResponseWriter& w) {
  const auto track = number_param(q, "TrackNumber");
  if (!track) {
    co_await http::send_error(w, invalid("TrackNumber is required"));
    co_return;
  }
  const auto header_id = number_param(q, "SequenceNumber");
  auto work = [&ctx, &s, track, header_id]() -> kvs::Result<std::string> {
    auto& store = *ctx.read->fragments;
    std::uint64_t id = 0;
    if (header_id) {
      id = *header_id;
    } else {
      auto window = ctx.windows->compute(store, s, ctx.read->now_ms());
      if (!window) return window.error();
      if (window->segments.empty()) return no_fragments();
      id = window->segments.front().record.header_id;
    }
    auto header = store.read_header(s.stream_id, id);
    if (!header) return header.error();
    auto init = media::fmp4_init_segment(*header, *track);
    if (auto* err = std::get_if<media::MediaError>(&init)) return media_error(*err);
    const auto& bytes = std::get<std::vector<std::uint8_t>>(init);
    return as_body(bytes);
  };
  co_await respond(ctx, w, kMp4Type, work);
}

// Blocking: the fragment a media GET names (FragmentNumber, or DASH's Time = its start), with its
// header and cluster bytes.
struct Loaded {
  kvs::FragmentRecord record;
  std::vector<std::uint8_t> header;
  std::vector<std::uint8_t> cluster;
};

kvs::Result<Loaded> load_fragment(const PlaybackContext& ctx, const PlaybackSession& s, const Query& q) {
  auto& store = *ctx.read->fragments;
  std::optional<kvs::FragmentRecord> record;
  if (const auto it = q.find("FragmentNumber"); it != q.end()) {
    if (!is_fragment_number(it->second)) return invalid("FragmentNumber must be 1-128 decimal digits");
    auto r = store.get(s.stream_id, it->second);
    if (!r) return r.error();
    record = std::move(*r);
  } else if (const auto t = signed_param(q, "Time")) {
    kvs::FragmentQuery fq;
    fq.stream_id = s.stream_id;
    fq.kind = s.kind;
    fq.from_ms = *t;
    fq.to_ms = *t;
    fq.limit = 1;
    auto page = store.list(fq);
    if (!page) return page.error();
    if (!page->fragments.empty()) record = std::move(page->fragments.front());
  } else {
    return invalid("FragmentNumber is required");
  }
  if (!record) {
    // A FragmentNumber the token's stream does not hold: a token moved to another stream's
    // fragments, or one removed by retention. Either way this session may not fetch it.
    if (q.count("FragmentNumber"))
      return kvs::Error{kvs::errc::session_token_rejected, "the fragment is not in this session's stream"};
    return kvs::Error{kvs::errc::resource_not_found, "no fragment of this session starts at that Time"};
  }
  auto header = store.read_header(s.stream_id, record->header_id);
  if (!header) return header.error();
  auto cluster = store.read_cluster(*record);
  if (!cluster) return cluster.error();
  return Loaded{std::move(*record), std::move(*header), std::move(*cluster)};
}

// The low 32 bits of a fragment number: an mfhd sequence number that rises with arrival. The
// number has more digits than a uint64_t holds; its value mod 2^64 is head * 10^19 + tail in
// wrapping unsigned arithmetic (19 tail digits), and the low 32 bits of that are the number's.
std::uint32_t sequence_of(std::string_view fragment_number) {
  constexpr std::size_t kTailDigits = 19;
  constexpr std::uint64_t kTailScale = 10'000'000'000'000'000'000ull;
  const std::size_t split = fragment_number.size() > kTailDigits ? fragment_number.size() - kTailDigits : 0;
  const std::uint64_t head =
      split == 0 ? 0 : kvs::parse_decimal<std::uint64_t>(fragment_number.substr(0, split)).value_or(0);
  const std::uint64_t tail = kvs::parse_decimal<std::uint64_t>(fragment_number.substr(split)).value_or(0);
  return static_cast<std::uint32_t>(head * kTailScale + tail);
}

asio::awaitable<void> media_fragment(const PlaybackContext& ctx, const PlaybackSession& s, const Query& q,
                                     http::ResponseWriter& w) {
  const auto track = number_param(q, "TrackNumber");
  if (!track) {
    co_await http::send_error(w, invalid("TrackNumber is required"));
    co_return;
  }
  auto work = [&ctx, &s, &q, track]() -> kvs::Result<std::string> {
    auto f = load_fragment(ctx, s, q);
    if (!f) return f.error();
    auto seg = media::fmp4_media_segment(f->header, f->cluster, *track, sequence_of(f->record.fragment_number),
                                         chosen_timestamp(f->record, s.kind));
    if (auto* err = std::get_if<media::MediaError>(&seg)) return media_error(*err);
    const auto& bytes = std::get<std::vector<std::uint8_t>>(seg);
    return as_body(bytes);
  };
  co_await respond(ctx, w, kMp4Type, work);
}

asio::awaitable<void> ts_fragment(const PlaybackContext& ctx, const PlaybackSession& s, const Query& q,
                                  http::ResponseWriter& w) {
  auto work = [&ctx, &s, &q]() -> kvs::Result<std::string> {
    auto f = load_fragment(ctx, s, q);
    if (!f) return f.error();
    auto seg = av::ts_segment(f->header, f->cluster, chosen_timestamp(f->record, s.kind));
    if (auto* err = std::get_if<media::MediaError>(&seg)) return media_error(*err);
    const auto& bytes = std::get<std::vector<std::uint8_t>>(seg);
    return as_body(bytes);
  };
  co_await respond(ctx, w, kTsType, work);
}

void add_get(http::Router& router, const PlaybackContext& ctx, const std::string& path, const char* name,
             PlaybackProtocol protocol, GetHandler handler) {
  auto h = [&ctx, protocol, handler](http::Request& req, http::ResponseWriter& w) -> asio::awaitable<void> {
    const auto q = parse_query(req.query);
    auto session = session_of(ctx, q, protocol);
    if (!session) {
      co_await http::send_error(w, session.error());
      co_return;
    }
    // A valid session token is a credential (GetHLS/DASHStreamingSessionURL was signed): the
    // connection is kept at the connection limit like a SigV4-authenticated one.
    if (req.connection && req.connection->authenticated) req.connection->authenticated->store(true);
    co_await handler(ctx, *session, q, w);
  };
  router.add("GET", path, name, h);
  router.add("HEAD", path, name, h);
}

}  // namespace

void add_playback_get_routes(http::Router& router, const PlaybackContext& ctx) {
  const auto hls = PlaybackProtocol::hls;
  const auto dash = PlaybackProtocol::dash;
  add_get(router, ctx, "/hls/v1/getHLSMasterPlaylist.m3u8", "GetHLSMasterPlaylist", hls, master_playlist);
  add_get(router, ctx, "/hls/v1/getHLSMediaPlaylist.m3u8", "GetHLSMediaPlaylist", hls, media_playlist);
  add_get(router, ctx, "/hls/v1/getMP4InitFragment.mp4", "GetMP4InitFragment", hls, init_fragment);
  add_get(router, ctx, "/hls/v1/getMP4MediaFragment.mp4", "GetMP4MediaFragment", hls, media_fragment);
  add_get(router, ctx, "/hls/v1/getTSFragment.ts", "GetTSFragment", hls, ts_fragment);
  add_get(router, ctx, "/dash/v1/getDASHManifest.mpd", "GetDASHManifest", dash, dash_manifest);
  add_get(router, ctx, "/dash/v1/getMP4InitFragment.mp4", "GetMP4InitFragment", dash, init_fragment);
  add_get(router, ctx, "/dash/v1/getMP4MediaFragment.mp4", "GetMP4MediaFragment", dash, media_fragment);
}

}  // namespace kvsd::api::detail

namespace kvsd::api {

void add_playback_routes(http::Router& router, const PlaybackContext& ctx) {
  detail::add_playback_session_routes(router, ctx);
  detail::add_playback_get_routes(router, ctx);
}

}  // namespace kvsd::api
