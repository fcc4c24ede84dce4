#include "api/put_media.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "api/body_chunks.hpp"
#include "api/put_media_acks.hpp"
#include "api/put_media_request.hpp"
#include "exec/async_event.hpp"
#include "exec/offload.hpp"
#include "http/aws_error.hpp"

namespace kvsd::api {

namespace asio = boost::asio;

namespace {
// Seconds from RECEIVED: the store's answer and the PERSISTED share them, so they compare.
const std::vector<double> kPersistBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
}  // namespace

PutMediaMetrics::PutMediaMetrics(obs::Registry& registry)
    : sessions(registry.gauge("kvsd_put_media_sessions", "PutMedia uploads in progress")),
      fragments(registry.counter("kvsd_ingest_fragments_total", "Fragments completed by result", {"result"})),
      bytes(registry.counter("kvsd_ingest_bytes_total", "PutMedia body bytes received")),
      staged_bytes(registry.counter("kvsd_ingest_staged_bytes_total",
                                    "Cluster bytes written as they arrived, before their fragment completed")),
      errors(registry.counter("kvsd_ingest_error_acks_total", "ERROR ACKs sent by ErrorId", {"error_id"})),
      persist_seconds(registry.histogram("kvsd_ingest_persist_seconds", "From RECEIVED to durable (PERSISTED)",
                                         kPersistBuckets, {})),
      store_seconds(registry.histogram(
          "kvsd_ingest_store_seconds",
          "From RECEIVED to the store's answer; persist_seconds adds the wait for the upload's I/O thread",
          kPersistBuckets, {})) {}

namespace {

constexpr int kErrorStreamRead = 4000;
constexpr int kErrorStreamNotActive = 4008;
constexpr int kErrorArchival = 5001;
constexpr int kErrorInternal = 5000;

using Clock = std::chrono::steady_clock;

// `units` of `scale_ns` nanoseconds, in milliseconds (rounded down), without overflowing for
// epoch-millisecond timecodes at any TimecodeScale the producers use (100 ns .. 1 s).
std::int64_t scale_to_ms(std::uint64_t units, std::uint64_t scale_ns) {
  constexpr std::uint64_t kNsPerMs = 1'000'000;
  return static_cast<std::int64_t>((units / kNsPerMs) * scale_ns + (units % kNsPerMs) * scale_ns / kNsPerMs);
}

// Parser events, collected synchronously inside feed() and handled afterwards with co_await.
struct HeaderEvent {
  std::shared_ptr<const std::vector<std::uint8_t>> bytes;
  std::uint64_t timecode_scale_ns = 1'000'000;
};
struct StartEvent {
  std::uint64_t cluster_timecode = 0;
  std::uint64_t cluster_offset = 0;  // in the body
  std::int64_t server_timestamp_ms = 0;
};
using ParserEvent = std::variant<HeaderEvent, StartEvent, media::Fragment>;

class EventCollector final : public media::MkvIngestParser::Handler {
 public:
  explicit EventCollector(const PutMediaContext& ctx) : ctx_(ctx) {}
  void on_header(const media::StreamHeader& h) override {
    events.emplace_back(HeaderEvent{std::make_shared<const std::vector<std::uint8_t>>(h.bytes), h.timecode_scale_ns});
  }
  void on_fragment_start(const media::FragmentStart& s) override {
    events.emplace_back(StartEvent{s.cluster_timecode, s.cluster_offset, ctx_.now_ms()});
  }
  void on_fragment(media::Fragment&& f) override { events.emplace_back(std::move(f)); }

  std::vector<ParserEvent> events;

 private:
  const PutMediaContext& ctx_;
};

// What the store said about one fragment, carried to the strand.
struct PersistResult {
  bool ok = false;
  bool duplicate = false;
  std::string stored_number;  // the number of the fragment as stored
  std::string message;        // the error, when !ok
};

class Upload {
 public:
  Upload(const PutMediaContext& ctx, PutMediaParams params, kvs::StreamInfo stream, std::shared_ptr<SessionState> state)
      : ctx_(ctx),
        params_(std::move(params)),
        stream_(std::move(stream)),
        state_(std::move(state)),
        collector_(ctx),
        parser_(collector_, ctx.limits, media::ClusterBytes::positions) {}

  // Reads the body to its end (or to the first error), handling parser events as they come.
  // Reads fill chunks of `size` bytes in turn; the parser copies no Cluster byte (it reports
  // positions), so fragments and staged parts are ranges of these chunks, shared, not copied.
  asio::awaitable<void> read_body(http::Request& req) {
    static constexpr int kFullReadsBeforeGrowing = 4;
    std::size_t size = std::max<std::size_t>(ctx_.read_buffer_bytes, 4096);
    int full_reads = 0;
    if (ctx_.stage_part_bytes > 0) lane_ = ctx_.fragments->open_lane();
    while (!stopped_ && !state_->failed && !state_->writer_failed) {
      const auto into = body_.free_space(size);
      const bool whole_chunk = into.size() == size;
      auto r = co_await req.body->read_some(std::as_writable_bytes(into));
      if (r.ec) {
        // Reset, stall timeout or broken framing: the open fragment is incomplete and dropped
        // (the producer replays it on its next connection). The producer is told (4000) when
        // it can still hear it: after a stall or bad framing the response is still open.
        spdlog::info("putMedia {}: body ended abnormally after {} bytes: {}", stream_.stream_name,
                     parser_.bytes_consumed(), r.ec.message());
        fail(kErrorStreamRead, "the body could not be read: " + r.ec.message());
        break;
      }
      if (r.bytes == 0) {
        auto err = parser_.finish();
        co_await handle_events();
        if (err) {
          fail_with(*err);
        } else if (parser_.ended_inside_element()) {
          // A cut body (a clean end comes after whole frames): the open fragment is not stored.
          fail(static_cast<int>(media::IngestErrorId::invalid_mkv), "the body ended inside an element");
        }
        break;
      }
      body_.filled(r.bytes);
      state_->last_activity = Clock::now();
      if (ctx_.metrics) ctx_.metrics->bytes.with({}).inc(r.bytes);
      auto err = parser_.feed(into.first(r.bytes));
      co_await handle_events();
      if (err) fail_with(*err);
      stage_open_fragment();
      release_chunks();
      // A sender that keeps filling whole chunks gets larger ones.
      if (whole_chunk && r.bytes == into.size() && size < ctx_.max_read_buffer_bytes &&
          ++full_reads >= kFullReadsBeforeGrowing) {
        size = std::min(size * 2, ctx_.max_read_buffer_bytes);
        full_reads = 0;
      }
    }
  }

  // Waits until every fragment handed to the store has completed.
  asio::awaitable<void> wait_for_persists() {
    while (state_->in_flight > 0) co_await state_->reader_wake.wait();
  }

  // After the last persist: the store's lane for this upload is done.
  void close_lane() {
    if (lane_ != 0) ctx_.fragments->close_lane(stream_.stream_id, std::exchange(lane_, 0));
  }

 private:
  struct Current;  // the fragment in progress (below)

  asio::awaitable<void> handle_events() {
    auto events = std::move(collector_.events);
    collector_.events.clear();
    for (auto& ev : events) {
      if (stopped_ || state_->failed) break;
      if (auto* h = std::get_if<HeaderEvent>(&ev)) {
        header_ = h->bytes;
        timecode_scale_ns_ = h->timecode_scale_ns;
      } else if (auto* s = std::get_if<StartEvent>(&ev)) {
        co_await start_fragment(*s);
      } else {
        co_await complete_fragment(std::get<media::Fragment>(ev));
      }
    }
  }

  // Hands the open fragment's bytes [staged_upto, to) to the store's lane. False (and an ERROR)
  // when they are no longer held, which would be a bug.
  bool stage(std::uint64_t to) {
    auto part = body_.cut(current_->staged_upto, to);
    if (!part) {
      fail(kErrorInternal, "the fragment's bytes were released before they were staged");
      return false;
    }
    if (ctx_.metrics) ctx_.metrics->staged_bytes.with({}).inc(to - current_->staged_upto);
    current_->staged_upto = to;
    current_->parts.push_back(*part);
    ctx_.fragments->stage_async(stream_.stream_id, lane_, std::move(*part));
    return true;
  }

  // Whether the open fragment goes to the store's lane as it arrives. A replay of a stored
  // fragment does not: it goes whole, so the store can compare it with the stored copy.
  bool staging() const { return lane_ != 0 && current_ && !current_->duplicate; }

  // Hands the open fragment's unstaged bytes to the lane, which writes them while the rest
  // arrives: once there are max_read_buffer_bytes of them, or stage_part_bytes when the last part
  // went more than kPartInterval ago. A camera's parts are small and leave as they come; a fast
  // sender's are large (fewer writes for the same bytes). The parts are kept until the fragment
  // completes (the live feed gives GetMedia readers the whole cluster).
  void stage_open_fragment() {
    static constexpr auto kPartInterval = std::chrono::milliseconds(10);
    if (stopped_ || state_->failed || !staging()) return;
    const auto open = parser_.open_cluster();
    if (!open || open->offset != current_->cluster_offset) return;
    const auto end = open->offset + open->size;
    const auto unstaged = end - current_->staged_upto;
    if (unstaged < ctx_.stage_part_bytes) return;
    const auto now = Clock::now();
    if (unstaged < std::max(ctx_.stage_part_bytes, ctx_.max_read_buffer_bytes) &&
        now - current_->last_part < kPartInterval)
      return;
    current_->last_part = now;
    (void)stage(end);
  }

  // Drops the chunks that hold only bytes no fragment needs any more.
  void release_chunks() {
    std::uint64_t needed_from = parser_.bytes_consumed();
    if (const auto open = parser_.open_cluster()) {
      needed_from = open->offset;
      if (current_ && current_->cluster_offset == open->offset) needed_from = current_->staged_upto;
    }
    body_.release_before(needed_from);
  }

  std::int64_t producer_timestamp_ms(std::uint64_t cluster_timecode) const {
    const auto ms = scale_to_ms(cluster_timecode, timecode_scale_ns_);
    if (params_.timecode_type == TimecodeType::relative) return *params_.producer_start_ms + ms;
    return ms;
  }

  asio::awaitable<void> start_fragment(const StartEvent& s) {
    current_ = Current{};
    current_->cluster_timecode = s.cluster_timecode;
    current_->cluster_offset = s.cluster_offset;
    current_->staged_upto = s.cluster_offset;
    current_->last_part = Clock::now();
    current_->server_timestamp_ms = s.server_timestamp_ms;
    current_->producer_timestamp_ms = producer_timestamp_ms(s.cluster_timecode);
    // Is the stream still there, and is this a replay of a stored fragment?
    auto* streams = ctx_.streams;
    auto* fragments = ctx_.fragments;
    const kvs::StreamRef ref = params_.stream;
    const auto stream_id = stream_.stream_id;
    const auto pts = current_->producer_timestamp_ms;
    auto work = [streams, fragments, ref, stream_id, pts] {
      std::optional<kvs::FragmentRecord> dup;
      auto info = streams->describe(ref);
      if (!info || info->stream_id != stream_id || info->status == kvs::StreamStatus::deleting)
        return std::make_pair(false, dup);
      auto found = fragments->find_by_producer_timestamp(stream_id, pts);
      if (found) dup = std::move(*found);
      return std::make_pair(true, dup);
    };
    auto lookup = co_await exec::offload(*ctx_.pool, work);
    const bool active = lookup.first;
    auto& dup = lookup.second;
    if (!active) {
      current_->fragment_number = ctx_.fragments->next_fragment_number();
      fail(kErrorStreamNotActive, "the stream was deleted");
      co_return;
    }
    if (dup) {
      current_->fragment_number = dup->fragment_number;
      current_->duplicate = true;
    } else {
      current_->fragment_number = ctx_.fragments->next_fragment_number();
      if (ctx_.live) ctx_.live->started(stream_.stream_id);
    }
    ack(AckType::buffering, current_->cluster_timecode, current_->fragment_number);
  }

  // A fragment's last byte arrived: RECEIVED, then (its bytes staged or copied out) to the
  // store, and to GetMedia's live readers.
  asio::awaitable<void> complete_fragment(media::Fragment& f) {
    if (!current_ || current_->cluster_timecode != f.cluster_timecode) {
      fail(kErrorInternal, "fragment completed without a start");
      co_return;
    }
    // Its last part goes to the lane too; a fragment not staged is copied out whole.
    const auto end = f.cluster_offset + f.cluster_size;
    const bool staged = staging();
    if (staged && end > current_->staged_upto && !stage(end)) co_return;
    std::vector<std::uint8_t> bytes;
    if (!staged && !copy_out(f, bytes)) co_return;
    auto cur = std::move(*current_);
    current_.reset();
    ack(AckType::received, cur.cluster_timecode, cur.fragment_number);

    // A replay (cur.duplicate) goes to the store too, under the stored fragment's number: the
    // store keeps the stored copy unless this one is longer (the stored one was cut short).
    PendingPersist pending;
    pending.cluster_timecode = cur.cluster_timecode;
    pending.fragment_number = cur.fragment_number;
    state_->pending.push_back(std::move(pending));

    kvs::IngestFragment in = ingest_fragment(cur, f, std::move(bytes));
    const bool live = ctx_.live != nullptr && !cur.duplicate;
    if (live) feed_live(in, cur);
    persist(std::move(in), live);
  }

  // The whole cluster of `f` from the body's retained bytes; ERROR when they were released.
  bool copy_out(const media::Fragment& f, std::vector<std::uint8_t>& bytes) {
    auto whole = body_.cut(f.cluster_offset, f.cluster_offset + f.cluster_size);
    if (!whole) {
      fail(kErrorInternal, "the fragment's bytes were released before it completed");
      return false;
    }
    bytes.reserve(f.cluster_size);
    for (const auto& range : *whole) bytes.insert(bytes.end(), range.bytes.begin(), range.bytes.end());
    return true;
  }

  kvs::IngestFragment ingest_fragment(const Current& cur, media::Fragment& f, std::vector<std::uint8_t> bytes) {
    kvs::IngestFragment in;
    in.stream_id = stream_.stream_id;
    in.fragment_number = cur.fragment_number;
    in.header = header_;
    in.cluster_bytes = std::move(bytes);
    in.lane = lane_;
    in.staged_bytes = cur.staged_upto - cur.cluster_offset;
    in.cluster_timecode = cur.cluster_timecode;
    in.producer_timestamp_ms = cur.producer_timestamp_ms;
    in.server_timestamp_ms = cur.server_timestamp_ms;
    in.duration_ms = f.duration > 0 ? scale_to_ms(static_cast<std::uint64_t>(f.duration), timecode_scale_ns_) : 0;
    for (const auto& t : f.tracks) in.tracks.push_back(kvs::FragmentTrack{t.track_number, t.frames, t.key_frames});
    in.metadata = std::move(f.metadata);
    return in;
  }

  // Hands the fragment to GetMedia's live readers (built only when one is waiting).
  void feed_live(const kvs::IngestFragment& in, const Current& cur) {
    ctx_.live->received(in.stream_id, in.fragment_number, [&in, &cur] {
      auto lf = std::make_shared<LiveFragment>();
      lf->record.stream_id = in.stream_id;
      lf->record.fragment_number = in.fragment_number;
      lf->record.cluster_timecode = in.cluster_timecode;
      lf->record.producer_timestamp_ms = in.producer_timestamp_ms;
      lf->record.server_timestamp_ms = in.server_timestamp_ms;
      lf->record.duration_ms = in.duration_ms;
      lf->record.size_bytes = in.staged_bytes + in.cluster_bytes.size();
      lf->record.tracks = in.tracks;
      lf->record.metadata = in.metadata;
      lf->header = in.header;
      auto whole = std::make_shared<std::vector<std::uint8_t>>();
      whole->reserve(lf->record.size_bytes);
      for (const auto& part : cur.parts)
        for (const auto& range : part) whole->insert(whole->end(), range.bytes.begin(), range.bytes.end());
      whole->insert(whole->end(), in.cluster_bytes.begin(), in.cluster_bytes.end());
      lf->cluster = std::move(whole);
      return std::shared_ptr<const LiveFragment>(std::move(lf));
    });
  }

  // Queues the fragment for the store; its completion is carried to the strand (on_persisted).
  void persist(kvs::IngestFragment in, bool live) {
    ++state_->in_flight;
    auto state = state_;
    auto* feed = live ? ctx_.live : nullptr;
    const auto stream_id = stream_.stream_id;
    auto* metrics = ctx_.metrics;
    const bool retains = this->retains();
    const auto number = in.fragment_number;
    const auto stream_name = stream_.stream_name;
    const auto started = Clock::now();
    ctx_.fragments->persist_async(std::move(in), [state, metrics, retains, number, stream_name, started, feed,
                                                  stream_id](kvs::Result<kvs::PersistOutcome> r) {
      if (feed) feed->settled(stream_id, number);
      if (metrics && r)
        metrics->store_seconds.with({}).observe(std::chrono::duration<double>(Clock::now() - started).count());
      // On a store thread: carry the outcome to the strand.
      PersistResult out;
      out.ok = r.has_value();
      if (out.ok) {
        out.duplicate = r->duplicate;
        out.stored_number = r->record.fragment_number;
      } else {
        out.message = r.error().message;
      }
      asio::post(state->executor, [state, metrics, retains, number, stream_name, started, out = std::move(out)] {
        on_persisted(*state, metrics, retains, number, stream_name, started, out);
      });
    });
  }

  static void on_persisted(SessionState& st, PutMediaMetrics* metrics, bool retains, const std::string& number,
                           const std::string& stream_name, Clock::time_point started, const PersistResult& r) {
    --st.in_flight;
    for (auto& p : st.pending) {
      if (p.fragment_number != number) continue;
      p.done = true;
      p.failed = !r.ok;
      if (r.ok && !r.stored_number.empty() && r.stored_number != number) {
        // Another upload stored the same fragment first: only its number exists.
        spdlog::info("putMedia {}: fragment {} is a replay of stored fragment {}", stream_name, number,
                     r.stored_number);
        p.fragment_number = r.stored_number;
      }
      break;
    }
    if (metrics) {
      metrics->fragments.with({r.ok ? (r.duplicate ? "duplicate" : "persisted") : "failed"}).inc();
      if (r.ok)
        metrics->persist_seconds.with({}).observe(std::chrono::duration<double>(Clock::now() - started).count());
    }
    if (!r.ok) spdlog::error("putMedia {}: fragment {} not persisted: {}", stream_name, number, r.message);
    flush_persisted(st, retains, metrics);
    st.reader_wake.notify();
  }

  // Sends PERSISTED (or ERROR 5001) for completed fragments at the head of the queue, in order.
  // Every fragment that got RECEIVED gets one of them, also after an ERROR: the producer learns
  // the truth about each (docs/api-compat.md, "PutMedia end of session").
  static void flush_persisted(SessionState& st, bool retains, PutMediaMetrics* metrics) {
    while (!st.pending.empty() && st.pending.front().done) {
      auto p = std::move(st.pending.front());
      st.pending.pop_front();
      if (p.failed) {
        st.queue(Ack{AckType::error, p.cluster_timecode, p.fragment_number, kErrorArchival});
        if (metrics) metrics->errors.with({std::to_string(kErrorArchival)}).inc();
        st.failed = true;
      } else if (retains) {
        st.queue(Ack{AckType::persisted, p.cluster_timecode, p.fragment_number, 0});
      }
    }
  }

  bool retains() const { return stream_.data_retention_in_hours > 0; }

  void ack(AckType type, std::uint64_t timecode, const std::string& number) {
    if (!params_.ack_required) return;
    state_->queue(Ack{type, timecode, number, 0});
  }

  void fail_with(const media::IngestError& e) {
    spdlog::warn("putMedia {}: ERROR {} at body offset {}: {}", stream_.stream_name, static_cast<int>(e.id),
                 parser_.bytes_consumed(), e.message);
    if (!current_ && e.cluster_timecode) {
      // The cluster was rejected at its Timecode (4004, or 4009 for the metadata in front of it):
      // name it with a number of its own. An ERROR without a FragmentTimecode makes the SDK drop
      // frames from wherever its sender is (docs/storage.md, "Reconnect bodies").
      current_ = Current{};
      current_->cluster_timecode = *e.cluster_timecode;
      current_->fragment_number = ctx_.fragments->next_fragment_number();
    }
    fail(static_cast<int>(e.id), e.message);
  }

  // Queues the ERROR ACK for the open fragment (or without fragment fields when none is open)
  // and stops reading. Fragments already RECEIVED still get their PERSISTED first.
  void fail(int error_id, const std::string& why) {
    if (stopped_) return;
    if (error_id == kErrorStreamNotActive || error_id >= 5000)
      spdlog::warn("putMedia {}: ERROR {}: {}", stream_.stream_name, error_id, why);
    if (ctx_.metrics) ctx_.metrics->errors.with({std::to_string(error_id)}).inc();
    Ack a{AckType::error, std::nullopt, {}, error_id};
    if (current_ && !current_->fragment_number.empty()) {
      a.fragment_timecode = current_->cluster_timecode;
      a.fragment_number = current_->fragment_number;
    }
    // PERSISTED of earlier fragments must not follow the ERROR: hold the ERROR until they are out.
    error_ack_ = format_ack(a);
    stopped_ = true;
  }

 public:
  // The ERROR ACK to send once earlier fragments are settled; empty when none.
  std::string take_error_ack() { return std::exchange(error_ack_, std::string()); }

 private:
  struct Current {
    std::uint64_t cluster_timecode = 0;
    std::int64_t producer_timestamp_ms = 0;
    std::int64_t server_timestamp_ms = 0;
    std::string fragment_number;
    bool duplicate = false;
    std::uint64_t cluster_offset = 0;  // in the body
    std::uint64_t staged_upto = 0;     // body offset: bytes before it went to the store's lane
    std::vector<kvs::StagedPart> parts;
    Clock::time_point last_part;  // when the last part was staged (the fragment's start at first)
  };

  const PutMediaContext& ctx_;
  PutMediaParams params_;
  kvs::StreamInfo stream_;
  std::shared_ptr<SessionState> state_;
  EventCollector collector_;
  media::MkvIngestParser parser_;
  std::shared_ptr<const std::vector<std::uint8_t>> header_;
  std::uint64_t timecode_scale_ns_ = 1'000'000;
  std::optional<Current> current_;
  std::string error_ack_;
  std::uint64_t lane_ = 0;  // the store's lane for this upload; 0: none (whole fragments)
  BodyChunks body_;         // the body bytes still needed (see read_body)
  bool stopped_ = false;    // an ERROR is pending: read no further
};

asio::awaitable<void> put_media(const PutMediaContext& ctx, http::Request& req, http::ResponseWriter& w) {
  PutMediaParams params;
  if (co_await http::refused(w, parse_put_media_params(req.headers, params))) co_return;
  auto* streams = ctx.streams;
  const kvs::StreamRef ref = params.stream;
  auto describe = [streams, ref] { return streams->describe(ref); };
  auto info = co_await exec::offload(*ctx.pool, describe);
  if (co_await http::refused(w, info)) co_return;
  if (info->status == kvs::StreamStatus::deleting) {
    const kvs::Error gone{kvs::errc::resource_not_found, "the stream is being deleted"};
    co_await http::send_error(w, gone);
    co_return;
  }

  auto executor = co_await asio::this_coro::executor;
  auto state = std::make_shared<SessionState>(executor);
  http::Headers headers;
  headers.add("content-type", "application/json");
  const auto start_ec = co_await w.start(200, std::move(headers));
  if (start_ec) co_return;

  if (ctx.metrics) ctx.metrics->sessions.with({}).add(1);
  spdlog::info("putMedia {}: session started ({}, retention {} h)", info->stream_name,
               params.timecode_type == TimecodeType::absolute ? "ABSOLUTE" : "RELATIVE", info->data_retention_in_hours);
  asio::co_spawn(executor, write_acks(state, w, ctx.idle_ack_interval), asio::detached);

  Upload upload(ctx, std::move(params), std::move(*info), state);
  co_await upload.read_body(req);
  co_await upload.wait_for_persists();
  upload.close_lane();
  if (auto err = upload.take_error_ack(); !err.empty() && !state->failed) {
    state->acks.push_back(std::move(err));
  }
  state->closing = true;
  state->writer_wake.notify();
  while (!state->writer_done) co_await state->reader_wake.wait();
  if (ctx.metrics) ctx.metrics->sessions.with({}).add(-1);
}

}  // namespace

void add_put_media_routes(http::Router& router, const PutMediaContext& ctx) {
  // Not a coroutine itself: it returns put_media's awaitable (g++ 12 mis-warns on lambda frames).
  auto inner = [&ctx](http::Request& req, http::ResponseWriter& w, Authenticated&) -> asio::awaitable<void> {
    return put_media(ctx, req, w);
  };
  router.add("POST", "/putMedia", "PutMedia", require_sigv4(*ctx.auth, inner, BodyHashMode::empty_payload));
}

}  // namespace kvsd::api
