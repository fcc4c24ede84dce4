// GetHLSStreamingSessionURL and GetDASHStreamingSessionURL: validate every parameter (spec
// archived-media 3.1 and 4), check that the stream has playable data for the mode (LIVE: a
// fragment in the last live_recent_ms; ON_DEMAND / LIVE_REPLAY: one in the range) and that its
// tracks fit HLS/DASH (judged on that fragment's header), then sign a session token.

#include <limits>

#include "api/control_plane.hpp"
#include "api/media_read_common.hpp"
#include "api/playback_common.hpp"
#include "api/validation.hpp"
#include "exec/offload.hpp"

namespace kvsd::api::detail {

namespace {

namespace asio = boost::asio;

constexpr std::int64_t kMaxRangeMs = 24ll * 3600 * 1000;

kvs::Error invalid(std::string message) { return kvs::Error{kvs::errc::invalid_argument, std::move(message)}; }

std::optional<kvs::Error> enum_field(const Json& j, const char* field, std::initializer_list<const char*> allowed,
                                     std::string& out) {
  const auto it = j.find(field);
  if (it == j.end() || it->is_null()) return std::nullopt;
  std::string list;
  for (const auto* a : allowed) {
    if (it->is_string() && it->get_ref<const std::string&>() == a) {
      out = a;
      return std::nullopt;
    }
    list += std::string(list.empty() ? "" : " | ") + a;
  }
  return invalid(std::string(field) + " must be one of " + list);
}

struct Request {
  kvs::StreamRef ref;
  PlaybackSession session;
};

std::optional<kvs::Error> parse(const Json& j, PlaybackProtocol protocol, Request& r, std::int64_t now_ms) {
  auto& s = r.session;
  s.protocol = protocol;
  const bool hls = protocol == PlaybackProtocol::hls;
  if (auto e = validation::stream_ref(j, r.ref)) return e;
  std::string mode = "LIVE";
  if (auto e = enum_field(j, "PlaybackMode", {"LIVE", "LIVE_REPLAY", "ON_DEMAND"}, mode)) return e;
  s.mode = mode == "LIVE"          ? PlaybackMode::live
           : mode == "LIVE_REPLAY" ? PlaybackMode::live_replay
                                   : PlaybackMode::on_demand;

  const char* selector_field = hls ? "HLSFragmentSelector" : "DASHFragmentSelector";
  const auto sel = j.find(selector_field);
  std::string type = "SERVER_TIMESTAMP";
  bool has_range = false;
  if (sel != j.end() && !sel->is_null()) {
    if (!sel->is_object()) return invalid(std::string(selector_field) + " must be an object");
    if (auto e = enum_field(*sel, "FragmentSelectorType", {"PRODUCER_TIMESTAMP", "SERVER_TIMESTAMP"}, type)) {
      e->message = std::string(selector_field) + "." + e->message;
      return e;
    }
    const auto range = sel->find("TimestampRange");
    if (range != sel->end() && !range->is_null()) {
      has_range = true;
      std::optional<std::int64_t> start;
      std::optional<std::int64_t> end;
      if (auto e = timestamp_range(*range, std::string(selector_field) + ".TimestampRange", false, start, end))
        return e;
      s.start_ms = start;
      s.end_ms = end;
    }
  }
  s.kind = type == "PRODUCER_TIMESTAMP" ? kvs::TimestampKind::producer : kvs::TimestampKind::server;
  if (s.mode == PlaybackMode::live && has_range)
    return invalid(std::string(selector_field) + ".TimestampRange must not be set with PlaybackMode LIVE");
  if (s.mode != PlaybackMode::live && !has_range)
    return invalid(std::string(selector_field) + ".TimestampRange is required with PlaybackMode " + mode);
  if (s.mode == PlaybackMode::on_demand && !s.end_ms)
    return invalid(std::string(selector_field) +
                   ".TimestampRange.EndTimestamp is required with PlaybackMode ON_DEMAND");
  if (s.end_ms) {
    if (*s.end_ms <= *s.start_ms) return invalid("EndTimestamp must be later than StartTimestamp");
    if (*s.end_ms - *s.start_ms > kMaxRangeMs) return invalid("the TimestampRange may span at most 24 hours");
    if (s.kind == kvs::TimestampKind::server && *s.end_ms > now_ms + 1000)
      return invalid("EndTimestamp must be in the past for SERVER_TIMESTAMP");
  }

  if (hls) {
    std::string container = "FRAGMENTED_MP4";
    if (auto e = enum_field(j, "ContainerFormat", {"FRAGMENTED_MP4", "MPEG_TS"}, container)) return e;
    s.mpeg_ts = container == "MPEG_TS";
    std::string disc = s.kind == kvs::TimestampKind::server ? "ALWAYS" : "NEVER";
    if (auto e = enum_field(j, "DiscontinuityMode", {"ALWAYS", "NEVER", "ON_DISCONTINUITY"}, disc)) return e;
    s.discontinuity = disc == "ALWAYS"  ? DiscontinuityMode::always
                      : disc == "NEVER" ? DiscontinuityMode::never
                                        : DiscontinuityMode::on_discontinuity;
  }
  std::string display = "NEVER";
  if (auto e = enum_field(j, "DisplayFragmentTimestamp", {"ALWAYS", "NEVER"}, display)) return e;
  s.display_timestamp = display == "ALWAYS";
  if (!hls) {
    std::string fn = "NEVER";
    if (auto e = enum_field(j, "DisplayFragmentNumber", {"ALWAYS", "NEVER"}, fn)) return e;
    s.display_fragment_number = fn == "ALWAYS";
  }
  std::optional<std::int64_t> expires;
  if (auto e = validation::optional_int(j, "Expires", 300, 43200, expires)) return e;
  std::optional<std::int64_t> max_results;
  if (auto e = validation::optional_int(j, hls ? "MaxMediaPlaylistFragmentResults" : "MaxManifestFragmentResults", 1,
                                        5000, max_results))
    return e;
  s.max_results = static_cast<std::uint32_t>(max_results.value_or(s.mode == PlaybackMode::on_demand ? 1000 : 5));
  s.created_ms = now_ms;
  s.expires_ms = now_ms + expires.value_or(300) * 1000;
  s.id = new_session_id();
  return std::nullopt;
}

// Blocking: the fragment the session starts from (the error when there is none) and its header.
struct Probe {
  std::vector<std::uint8_t> header;
};

kvs::Result<Probe> probe(kvs::FragmentStore& store, const PlaybackSession& s, std::int64_t now_ms,
                         std::int64_t live_recent_ms) {
  std::optional<kvs::FragmentRecord> first;
  if (s.mode == PlaybackMode::live) {
    auto latest = store.latest(s.stream_id);
    if (!latest) return latest.error();
    if (*latest && (*latest)->server_timestamp_ms + (*latest)->duration_ms + live_recent_ms >= now_ms) first = **latest;
  } else {
    kvs::FragmentQuery q;
    q.stream_id = s.stream_id;
    q.kind = s.kind;
    q.from_ms = *s.start_ms;
    q.to_ms = s.end_ms.value_or(std::numeric_limits<std::int64_t>::max());
    q.limit = 1;
    auto page = store.list(q);
    if (!page) return page.error();
    if (!page->fragments.empty()) first = page->fragments.front();
  }
  if (!first)
    return kvs::Error{kvs::errc::resource_not_found, "No fragments found in the stream for the streaming request."};
  auto header = store.read_header(s.stream_id, first->header_id);
  if (!header) return header.error();
  return Probe{std::move(*header)};
}

asio::awaitable<void> session_url(const PlaybackContext& ctx, http::Request& req, http::ResponseWriter& w,
                                  const Json& j, PlaybackProtocol protocol) {
  const auto& read = *ctx.read;
  Request r;
  if (co_await http::refused(w, parse(j, protocol, r, read.now_ms()))) co_return;
  auto stream = co_await resolve_retained_stream(read, r.ref);
  if (co_await http::refused(w, stream)) co_return;
  r.session.stream_id = stream->stream_id;
  auto* store = read.fragments;
  const auto now = read.now_ms();
  const auto recent = ctx.live_recent_ms;
  const auto& session = r.session;
  auto work = [store, &session, now, recent]() -> kvs::Result<bool> {
    auto p = probe(*store, session, now, recent);
    if (!p) return p.error();
    auto tracks = announced_tracks(p->header, session.mpeg_ts, {});
    if (!tracks) return tracks.error();
    return true;
  };
  auto checked = co_await exec::offload(*read.pool, work);
  if (co_await http::refused(w, checked)) co_return;
  const auto base = ctx.public_endpoint.empty()
                        ? data_endpoint_for(req.connection->tls, req.authority, req.connection->local_address,
                                            req.connection->local_port)
                        : ctx.public_endpoint;
  const auto token = ctx.signer->sign(r.session);
  Json out = Json::object();
  if (protocol == PlaybackProtocol::hls)
    out["HLSStreamingSessionURL"] = base + "/hls/v1/getHLSMasterPlaylist.m3u8?SessionToken=" + token;
  else
    out["DASHStreamingSessionURL"] = base + "/dash/v1/getDASHManifest.mpd?SessionToken=" + token;
  http::Headers h{{"content-type", "application/json"}};
  std::string text = out.dump();
  co_await w.send(200, std::move(h), std::move(text));
}

}  // namespace

void add_playback_session_routes(http::Router& router, const PlaybackContext& ctx) {
  const auto add = [&](const char* path, const char* name, PlaybackProtocol protocol) {
    add_signed_json_route(router, *ctx.read->auth, path, name,
                          [&ctx, protocol](http::Request& req, http::ResponseWriter& w, const Json& body) {
                            return session_url(ctx, req, w, body, protocol);
                          });
  };
  add("/getHLSStreamingSessionURL", "GetHLSStreamingSessionURL", PlaybackProtocol::hls);
  add("/getDASHStreamingSessionURL", "GetDASHStreamingSessionURL", PlaybackProtocol::dash);
}

}  // namespace kvsd::api::detail
