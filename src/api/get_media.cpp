// GetMedia (POST /getMedia): chunks in fragment-number order from the StartSelector's position,
// first from the store, then live from the LiveFeed as PutMedia RECEIVES fragments (before they
// are durable). The body ends cleanly once no fragment started or arrived for limits.get_media_idle
// and everything available was sent.
//
// Position: `last` is the number of the last chunk sent (or skipped); only numbers above it are
// sent, so store and live copies of one fragment go out once. Store catch-up first waits until the
// fragments in flight at that moment settled, so a fragment RECEIVED just before the subscription
// (not queued live, not yet in the index) is read from the store rather than skipped.

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/this_coro.hpp>
#include <map>
#include <string_view>

#include "api/media_read_common.hpp"
#include "api/validation.hpp"
#include "exec/offload.hpp"
#include "media/kvs_chunk.hpp"

namespace kvsd::api::detail {

namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kStoreBatch = 16;
// Longest time store catch-up waits for in-flight fragments to settle.
constexpr auto kSettleWait = std::chrono::seconds(5);
// Fragments longer than this are not searched for when a timestamp falls inside one.
constexpr std::int64_t kMaxFragmentMs = 60'000;

kvs::Error invalid(std::string message) { return kvs::Error{kvs::errc::invalid_argument, std::move(message)}; }

bool is_continuation_token(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  for (char c : s) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

enum class Start { now, earliest, after_number, producer_ts, server_ts };

struct Selector {
  Start type = Start::now;
  std::string after;  // after_number (AfterFragmentNumber or ContinuationToken)
  std::int64_t timestamp_ms = 0;
};

std::optional<kvs::Error> parse(const Json& j, kvs::StreamRef& ref, Selector& sel) {
  if (auto e = validation::stream_ref(j, ref)) return e;
  const auto it = j.find("StartSelector");
  if (it == j.end() || it->is_null()) return invalid("StartSelector is required");
  if (!it->is_object()) return invalid("StartSelector must be an object");
  const auto type = it->find("StartSelectorType");
  if (type == it->end() || !type->is_string()) return invalid("StartSelector.StartSelectorType is required");
  const auto& t = type->get_ref<const std::string&>();
  const auto string_field = [&](const char* name, bool (*valid)(std::string_view), const char* rule,
                                std::string& out) -> std::optional<kvs::Error> {
    const auto f = it->find(name);
    if (f == it->end() || f->is_null())
      return invalid(std::string("StartSelector.") + name + " is required with StartSelectorType " + t);
    if (!f->is_string() || !valid(f->get_ref<const std::string&>()))
      return invalid(std::string("StartSelector.") + name + " must be " + rule);
    out = f->get<std::string>();
    return std::nullopt;
  };
  if (t == "NOW") {
    sel.type = Start::now;
  } else if (t == "EARLIEST") {
    sel.type = Start::earliest;
  } else if (t == "FRAGMENT_NUMBER") {
    sel.type = Start::after_number;
    if (auto e = string_field("AfterFragmentNumber", is_fragment_number, "1-128 decimal digits", sel.after)) return e;
  } else if (t == "CONTINUATION_TOKEN") {
    sel.type = Start::after_number;
    if (auto e =
            string_field("ContinuationToken", is_continuation_token, "1-128 characters of [a-zA-Z0-9_.-]", sel.after))
      return e;
  } else if (t == "PRODUCER_TIMESTAMP" || t == "SERVER_TIMESTAMP") {
    sel.type = t == "PRODUCER_TIMESTAMP" ? Start::producer_ts : Start::server_ts;
    std::optional<std::int64_t> ts;
    if (auto e = timestamp_ms(*it, "StartTimestamp", true, ts)) {
      e->message = "StartSelector." + e->message + " with StartSelectorType " + t;
      return e;
    }
    sel.timestamp_ms = *ts;
  } else {
    return invalid(
        "StartSelector.StartSelectorType must be one of NOW, EARLIEST, FRAGMENT_NUMBER, PRODUCER_TIMESTAMP, "
        "SERVER_TIMESTAMP, CONTINUATION_TOKEN");
  }
  return std::nullopt;
}

// Where the session starts: send fragments numbered above `last`, after `first` (sent first when
// set: the fragment that holds the start timestamp).
struct Position {
  std::string last;
  std::optional<kvs::FragmentRecord> first;
};

// Blocking: resolves the selector against the index. `in_flight_max` is the highest number in
// flight when the subscription was made (NOW starts after it).
kvs::Result<Position> locate(kvs::FragmentStore& store, std::uint64_t stream_id, const Selector& sel,
                             const std::string& in_flight_max) {
  Position p;
  switch (sel.type) {
    case Start::earliest:
      return p;
    case Start::after_number: {
      auto r = store.get(stream_id, sel.after);
      if (!r) return r.error();
      if (!*r) return invalid("no fragment " + sel.after + " in this stream to start after");
      p.last = sel.after;
      return p;
    }
    case Start::producer_ts:
    case Start::server_ts: {
      kvs::FragmentQuery q;
      q.stream_id = stream_id;
      q.kind = sel.type == Start::producer_ts ? kvs::TimestampKind::producer : kvs::TimestampKind::server;
      q.from_ms = sel.timestamp_ms - kMaxFragmentMs;
      q.to_ms = std::numeric_limits<std::int64_t>::max();
      q.limit = 256;
      for (;;) {
        auto page = store.list(q);
        if (!page) return page.error();
        for (auto& f : page->fragments) {
          const auto ts = q.kind == kvs::TimestampKind::producer ? f.producer_timestamp_ms : f.server_timestamp_ms;
          if (ts + std::max<std::int64_t>(f.duration_ms, 1) > sel.timestamp_ms) {
            p.first = std::move(f);
            p.last = p.first->fragment_number;
            return p;
          }
        }
        if (page->next_cursor.empty()) break;
        q.cursor = page->next_cursor;
      }
      [[fallthrough]];  // nothing stored at or after the timestamp: start with new fragments
    }
    case Start::now: {
      auto latest = store.latest(stream_id);
      if (!latest) return latest.error();
      p.last = *latest ? (*latest)->fragment_number : std::string();
      p.last = std::max(p.last, in_flight_max);
      return p;
    }
  }
  return p;
}

class Session {
 public:
  Session(const MediaReadContext& ctx, http::ResponseWriter& w, kvs::StreamInfo stream,
          std::shared_ptr<LiveSubscription> sub)
      : ctx_(ctx), w_(w), stream_(std::move(stream)), sub_(std::move(sub)) {}

  asio::awaitable<void> run(Position pos) {
    last_ = std::move(pos.last);
    last_sent_ = Clock::now();
    if (pos.first) {
      auto cluster = co_await read_cluster(*pos.first);
      if (!cluster || !co_await send_stored(*pos.first, *cluster)) co_return;
    }
    bool need_store = true;
    for (;;) {
      if (need_store) {
        if (!co_await catch_up_from_store()) co_return;
        need_store = false;
      }
      bool overflowed = false;
      auto live = sub_->take(overflowed);
      if (overflowed) need_store = true;
      bool sent = false;
      for (const auto& f : live) {
        if (f->record.fragment_number <= last_) continue;
        if (!co_await send_live(*f)) co_return;
        sent = true;
      }
      if (sent || need_store) continue;
      const auto deadline = std::max(sub_->last_activity(), last_sent_) + ctx_.limits.get_media_idle;
      if (Clock::now() >= deadline) break;
      co_await sub_->wait_until(deadline);
    }
    co_await w_.finish();
  }

 private:
  // Sends every stored fragment above last_, after the fragments in flight now have settled.
  asio::awaitable<bool> catch_up_from_store() {
    auto pending = sub_->in_flight();
    std::erase_if(pending, [this](const std::string& n) { return n <= last_; });
    const auto give_up = Clock::now() + kSettleWait;
    while (!pending.empty() && sub_->any_in_flight(pending) && Clock::now() < give_up)
      co_await sub_->wait_until(std::min(give_up, Clock::now() + std::chrono::milliseconds(100)));
    auto* store = ctx_.fragments;
    const auto stream_id = stream_.stream_id;
    for (;;) {
      const auto after = last_;
      auto work = [store, stream_id, after] { return store->list_after(stream_id, after, kStoreBatch); };
      auto page = co_await exec::offload(*ctx_.pool, work);
      if (!page) {
        spdlog::error("getMedia {}: index read failed: {}", stream_.stream_name, page.error().message);
        co_return false;
      }
      if (page->empty()) co_return true;
      for (const auto& f : *page) {
        auto cluster = co_await read_cluster(f);
        if (!cluster) {
          // Removed by retention meanwhile: skip it.
          last_ = f.fragment_number;
          continue;
        }
        if (!co_await send_stored(f, *cluster)) co_return false;
      }
    }
  }

  asio::awaitable<std::optional<std::vector<std::uint8_t>>> read_cluster(const kvs::FragmentRecord& f) {
    auto* store = ctx_.fragments;
    const auto stream_id = stream_.stream_id;
    const bool need_header = !headers_.count(f.header_id);
    const auto header_id = f.header_id;
    auto work = [store, stream_id, need_header, header_id, &f] {
      std::optional<std::vector<std::uint8_t>> header;
      if (need_header) {
        auto h = store->read_header(stream_id, header_id);
        if (!h) return std::make_pair(kvs::Result<std::vector<std::uint8_t>>(h.error()), header);
        header = std::move(*h);
      }
      return std::make_pair(store->read_cluster(f), header);
    };
    auto r = co_await exec::offload(*ctx_.pool, work);
    if (!r.first) {
      spdlog::warn("getMedia {}: fragment {} unreadable: {}", stream_.stream_name, f.fragment_number,
                   r.first.error().message);
      co_return std::nullopt;
    }
    if (r.second) headers_[header_id] = std::make_shared<const std::vector<std::uint8_t>>(std::move(*r.second));
    co_return std::move(*r.first);
  }

  asio::awaitable<bool> send_stored(const kvs::FragmentRecord& f, const std::vector<std::uint8_t>& cluster) {
    const auto it = headers_.find(f.header_id);
    if (it == headers_.end()) co_return false;
    co_return co_await send(f, *it->second, cluster);
  }

  asio::awaitable<bool> send_live(const LiveFragment& f) {
    if (!f.header || !f.cluster) co_return true;
    co_return co_await send(f.record, *f.header, *f.cluster);
  }

  asio::awaitable<bool> send(const kvs::FragmentRecord& f, const std::vector<std::uint8_t>& header,
                             const std::vector<std::uint8_t>& cluster) {
    const auto behind = ctx_.now_ms() - f.server_timestamp_ms;
    const auto trailer = media::get_media_trailer(behind, f.fragment_number);
    last_ = f.fragment_number;
    if (!co_await send_chunk(w_, header, f, cluster, trailer)) co_return false;
    last_sent_ = Clock::now();
    co_return true;
  }

  const MediaReadContext& ctx_;
  http::ResponseWriter& w_;
  kvs::StreamInfo stream_;
  std::shared_ptr<LiveSubscription> sub_;
  std::string last_;
  Clock::time_point last_sent_;
  std::map<std::uint64_t, std::shared_ptr<const std::vector<std::uint8_t>>> headers_;
};

asio::awaitable<void> get_media(const MediaReadContext& ctx, http::Request&, http::ResponseWriter& w, const Json& j) {
  kvs::StreamRef ref;
  Selector sel;
  if (co_await http::refused(w, parse(j, ref, sel))) co_return;
  auto stream = co_await resolve_stream(ctx, ref);
  if (co_await http::refused(w, stream)) co_return;
  auto ex = co_await asio::this_coro::executor;
  auto sub = ctx.live->subscribe(stream->stream_id, ex, ctx.limits.get_media_per_stream);
  if (!sub) {
    const kvs::Error e{kvs::errc::connection_limit_exceeded, "stream " + stream->stream_name + " already has " +
                                                                 std::to_string(ctx.limits.get_media_per_stream) +
                                                                 " GetMedia connections"};
    co_await http::send_error(w, e);
    co_return;
  }
  const auto in_flight = sub->in_flight();
  const std::string in_flight_max =
      in_flight.empty() ? std::string() : *std::max_element(in_flight.begin(), in_flight.end());
  auto* store = ctx.fragments;
  const auto stream_id = stream->stream_id;
  auto work = [store, stream_id, &sel, &in_flight_max] { return locate(*store, stream_id, sel, in_flight_max); };
  auto pos = co_await exec::offload(*ctx.pool, work);
  if (co_await http::refused(w, pos)) co_return;
  http::Headers h{{"content-type", "video/webm"}};
  if (co_await w.start(200, std::move(h))) co_return;
  Session session(ctx, w, std::move(*stream), std::move(sub));
  co_await session.run(std::move(*pos));
}

}  // namespace

void add_get_media_route(http::Router& router, const MediaReadContext& ctx) {
  add_read_route(router, ctx, "/getMedia", "GetMedia", get_media);
}

}  // namespace kvsd::api::detail
