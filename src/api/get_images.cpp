// GetImages (POST /getImages): one image per sampling instant Start, Start + SamplingInterval, ...
// (before EndTimestamp), from the fragments whose start timestamp lies in [Start, End] (spec
// trap 14). An instant belongs to the latest such fragment that started at or before it; it is
// NO_MEDIA when there is none or that fragment ended before the instant. Each fragment of a page
// is decoded once on the offload pool (av::extract_fragment_images), at most
// kMaxConcurrentDecodes at a time across all requests. Pages hold MaxResults instants (default
// 25) and at most kMaxResponseBytes of image data; NextToken carries the next instant.

#include <spdlog/spdlog.h>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string_view>

#include "api/media_read_common.hpp"
#include "api/validation.hpp"
#include "av/fragment_images.hpp"
#include "exec/offload.hpp"
#include "kvs/base64.hpp"
#include "kvs/decimal.hpp"

namespace kvsd::api::detail {

namespace {

namespace asio = boost::asio;

constexpr std::int64_t kMaxRangeMs = 300'000;               // End - Start
constexpr std::int64_t kMinSamplingIntervalMs = 200;        // model B / docs now
constexpr std::int64_t kDefaultSamplingIntervalMs = 3'000;  // absent: model A's minimum
constexpr std::int64_t kMaxSamplingIntervalMs = 0x7FFFFFFF;
constexpr std::int64_t kDefaultMaxResults = 25;
constexpr std::int64_t kMaxResults = 100;  // images per request
constexpr std::int64_t kMaxWidth = 3840;
constexpr std::int64_t kMaxHeight = 2160;
constexpr std::size_t kMaxNextTokenChars = 4096;
constexpr std::size_t kMaxResponseBytes = 100ull << 20;  // base64 image data per page
// Fragment decodes running at once, server-wide: each holds a decoder's frame pool (tens of MB
// at 1080p), so a burst of requests queues here instead of exhausting memory or the pool.
constexpr std::size_t kMaxConcurrentDecodes = 2;
constexpr std::size_t kFragmentListPage = 1'000;

kvs::Error invalid(std::string message) { return kvs::Error{kvs::errc::invalid_argument, std::move(message)}; }

// ---- The decode gate: an asynchronous counting semaphore -----------------------------------

// Waiters are resumed in arrival order on their own executors. Thread-safe.
class DecodeGate {
 public:
  explicit DecodeGate(std::size_t permits) : free_(permits) {}

  asio::awaitable<void> acquire() {
    auto initiate = [this](auto handler) {
      std::unique_lock lock(mutex_);
      if (free_ > 0) {
        --free_;
        lock.unlock();
        auto ex = asio::get_associated_executor(handler);
        asio::post(ex, std::move(handler));
        return;
      }
      waiters_.push_back(std::make_unique<Waiter<decltype(handler)>>(std::move(handler)));
    };
    co_await asio::async_initiate<decltype(asio::use_awaitable), void()>(initiate, asio::use_awaitable);
  }

  void release() {
    std::unique_ptr<WaiterBase> next;
    {
      std::lock_guard lock(mutex_);
      if (waiters_.empty()) {
        ++free_;
        return;
      }
      next = std::move(waiters_.front());
      waiters_.pop_front();
    }
    next->resume();  // the permit passes to it
  }

 private:
  struct WaiterBase {
    virtual ~WaiterBase() = default;
    virtual void resume() = 0;
  };
  template <class Handler>
  struct Waiter final : WaiterBase {
    explicit Waiter(Handler h) : handler(std::move(h)) {}
    void resume() override {
      auto ex = asio::get_associated_executor(handler);
      asio::post(ex, std::move(handler));
    }
    Handler handler;
  };

  std::mutex mutex_;
  std::size_t free_;
  std::deque<std::unique_ptr<WaiterBase>> waiters_;
};

DecodeGate& decode_gate() {
  static DecodeGate gate(kMaxConcurrentDecodes);
  return gate;
}

// ---- Request ----------------------------------------------------------------------------------

struct ImagesRequest {
  kvs::StreamRef ref;
  kvs::TimestampKind kind = kvs::TimestampKind::server;
  std::int64_t start_ms = 0;
  std::int64_t end_ms = 0;
  std::int64_t interval_ms = kDefaultSamplingIntervalMs;
  std::int64_t max_results = kDefaultMaxResults;
  std::int64_t first_ms = 0;  // first instant of this page (Start, or the NextToken's)
  av::ImageOptions options;
};

std::string encode_token(std::int64_t next_ms) { return kvs::base64_encode("1|" + std::to_string(next_ms)); }

std::optional<std::int64_t> decode_token(std::string_view token) {
  const auto raw = kvs::base64_decode(token);
  if (!raw || raw->size() < 3 || raw->compare(0, 2, "1|") != 0) return std::nullopt;
  return kvs::parse_decimal<std::int64_t>(std::string_view(*raw).substr(2));
}

std::optional<kvs::Error> required_enum(const Json& j, const char* field, std::string_view a, std::string_view b,
                                        std::string& out) {
  const auto it = j.find(field);
  if (it == j.end() || it->is_null()) return invalid(std::string(field) + " is required");
  if (!it->is_string() || (it->get_ref<const std::string&>() != a && it->get_ref<const std::string&>() != b))
    return invalid(std::string(field) + " must be " + std::string(a) + " or " + std::string(b));
  out = it->get<std::string>();
  return std::nullopt;
}

std::optional<kvs::Error> parse_format_config(const Json& j, av::ImageOptions& options) {
  const auto it = j.find("FormatConfig");
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (!it->is_object()) return invalid("FormatConfig must be a map");
  if (it->size() > 1) return invalid("FormatConfig takes one entry (JPEGQuality)");
  for (const auto& [key, value] : it->items()) {
    if (key != "JPEGQuality") return invalid("FormatConfig key '" + key + "' is not JPEGQuality");
    if (!value.is_string() || !validation::is_jpeg_quality(value.get_ref<const std::string&>()))
      return invalid("FormatConfig.JPEGQuality must be a string holding an integer from 1 to 100");
    options.jpeg_quality = kvs::parse_decimal<int>(value.get_ref<const std::string&>()).value_or(options.jpeg_quality);
  }
  return std::nullopt;
}

std::optional<kvs::Error> parse(const Json& j, ImagesRequest& r) {
  if (auto e = validation::stream_ref(j, r.ref)) return e;
  std::string selector;
  if (auto e = required_enum(j, "ImageSelectorType", "PRODUCER_TIMESTAMP", "SERVER_TIMESTAMP", selector)) return e;
  r.kind = selector == "PRODUCER_TIMESTAMP" ? kvs::TimestampKind::producer : kvs::TimestampKind::server;
  std::optional<std::int64_t> start;
  std::optional<std::int64_t> end;
  if (auto e = timestamp_ms(j, "StartTimestamp", true, start)) return e;
  if (auto e = timestamp_ms(j, "EndTimestamp", true, end)) return e;
  if (*end <= *start) return invalid("EndTimestamp must be later than StartTimestamp");
  if (*end - *start > kMaxRangeMs) return invalid("EndTimestamp may be at most 300 seconds after StartTimestamp");
  r.start_ms = *start;
  r.end_ms = *end;
  std::optional<std::int64_t> n;
  if (auto e = validation::optional_int(j, "SamplingInterval", kMinSamplingIntervalMs, kMaxSamplingIntervalMs, n))
    return e;
  r.interval_ms = n.value_or(kDefaultSamplingIntervalMs);
  std::string format;
  if (auto e = required_enum(j, "Format", "JPEG", "PNG", format)) return e;
  r.options.format = format == "JPEG" ? av::ImageFormat::jpeg : av::ImageFormat::png;
  if (auto e = parse_format_config(j, r.options)) return e;
  if (auto e = validation::optional_int(j, "WidthPixels", 1, kMaxWidth, n)) return e;
  if (n) r.options.width = static_cast<int>(*n);
  if (auto e = validation::optional_int(j, "HeightPixels", 1, kMaxHeight, n)) return e;
  if (n) r.options.height = static_cast<int>(*n);
  if (r.options.width && !r.options.height)
    return invalid(
        "WidthPixels needs HeightPixels (give both to stretch, or HeightPixels alone to keep the aspect "
        "ratio)");
  const auto max_results = j.find("MaxResults");
  if (max_results != j.end() && max_results->is_number_integer() && max_results->get<std::int64_t>() > kMaxResults)
    return invalid("too many images: MaxResults may be at most 100 images per request");
  if (auto e = validation::optional_int(j, "MaxResults", 1, kMaxResults, n)) return e;
  r.max_results = n.value_or(kDefaultMaxResults);
  r.first_ms = r.start_ms;
  const auto token = j.find("NextToken");
  if (token != j.end() && !token->is_null()) {
    std::optional<std::int64_t> next;
    if (token->is_string() && kvs::is_base64_token(token->get_ref<const std::string&>(), kMaxNextTokenChars))
      next = decode_token(token->get_ref<const std::string&>());
    if (!next || *next < r.start_ms || *next >= r.end_ms || (*next - r.start_ms) % r.interval_ms != 0)
      return invalid("NextToken is not a token returned by GetImages for this time range and SamplingInterval");
    r.first_ms = *next;
  }
  return std::nullopt;
}

// ---- Planning: which fragment each instant of the page reads ----------------------------------

std::int64_t start_of(const kvs::FragmentRecord& f, kvs::TimestampKind kind) {
  return kind == kvs::TimestampKind::producer ? f.producer_timestamp_ms : f.server_timestamp_ms;
}

// The fragments whose start lies in [from, to], in timestamp order (blocking).
kvs::Result<std::vector<kvs::FragmentRecord>> list_fragments(kvs::FragmentStore& store, std::uint64_t stream_id,
                                                             kvs::TimestampKind kind, std::int64_t from,
                                                             std::int64_t to) {
  kvs::FragmentQuery q;
  q.stream_id = stream_id;
  q.kind = kind;
  q.from_ms = from;
  q.to_ms = to;
  q.limit = kFragmentListPage;
  std::vector<kvs::FragmentRecord> out;
  for (;;) {
    auto page = store.list(q);
    if (!page) return page.error();
    for (auto& f : page->fragments) out.push_back(std::move(f));
    if (page->next_cursor.empty()) return out;
    q.cursor = page->next_cursor;
  }
}

struct Sample {
  std::int64_t at_ms = 0;
  av::ImageStatus status = av::ImageStatus::no_media;
  std::shared_ptr<const std::vector<std::uint8_t>> bytes;
};

// One fragment's share of the page: the samples (indexes into the page) it answers.
struct FragmentWork {
  const kvs::FragmentRecord* fragment = nullptr;
  std::vector<std::size_t> samples;
};

std::vector<FragmentWork> plan(const std::vector<kvs::FragmentRecord>& fragments, kvs::TimestampKind kind,
                               const std::vector<Sample>& samples) {
  std::vector<FragmentWork> work;
  std::size_t f = 0;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const auto t = samples[i].at_ms;
    while (f + 1 < fragments.size() && start_of(fragments[f + 1], kind) <= t) ++f;
    if (fragments.empty() || start_of(fragments[f], kind) > t) continue;  // NO_MEDIA: nothing started yet
    const auto& frag = fragments[f];
    if (t >= start_of(frag, kind) + std::max<std::int64_t>(frag.duration_ms, 1)) continue;  // in a gap
    if (work.empty() || work.back().fragment != &frag) work.push_back(FragmentWork{&frag, {}});
    work.back().samples.push_back(i);
  }
  return work;
}

struct Decoded {
  av::FragmentImages images;
};

// ---- Handler ----------------------------------------------------------------------------------

asio::awaitable<void> get_images(const MediaReadContext& ctx, http::Request&, http::ResponseWriter& w, const Json& j) {
  ImagesRequest r;
  if (co_await http::refused(w, parse(j, r))) co_return;
  auto stream = co_await resolve_retained_stream(ctx, r.ref);
  if (co_await http::refused(w, stream)) co_return;

  std::vector<Sample> samples;
  for (std::int64_t t = r.first_ms; t < r.end_ms && static_cast<std::int64_t>(samples.size()) < r.max_results;
       t += r.interval_ms)
    samples.push_back(Sample{t, av::ImageStatus::no_media, nullptr});
  std::optional<std::int64_t> next_ms;
  if (const auto after = samples.back().at_ms + r.interval_ms; after < r.end_ms) next_ms = after;

  auto* store = ctx.fragments;
  const auto stream_id = stream->stream_id;
  const auto kind = r.kind;
  const auto from = r.start_ms;
  const auto to = samples.back().at_ms;
  auto listing = [store, stream_id, kind, from, to] { return list_fragments(*store, stream_id, kind, from, to); };
  auto fragments = co_await exec::offload(*ctx.pool, listing);
  if (co_await http::refused(w, fragments)) co_return;

  const auto work = plan(*fragments, r.kind, samples);
  std::map<std::uint64_t, std::shared_ptr<const std::vector<std::uint8_t>>> headers;
  std::size_t response_bytes = 0;
  std::size_t page_end = samples.size();  // samples past a cut for size go to the next page
  for (const auto& fw : work) {
    if (fw.samples.front() >= page_end) break;
    const kvs::FragmentRecord& frag = *fw.fragment;
    std::vector<std::int64_t> instants_ns;
    for (const auto i : fw.samples) instants_ns.push_back((samples[i].at_ms - start_of(frag, r.kind)) * 1'000'000);
    auto& header = headers[frag.header_id];
    auto* header_slot = &header;
    const auto options = r.options;
    auto decode = [store, stream_id, &frag, header_slot, &instants_ns, &options]() -> kvs::Result<Decoded> {
      if (!*header_slot) {
        auto h = store->read_header(stream_id, frag.header_id);
        if (!h) return h.error();
        *header_slot = std::make_shared<const std::vector<std::uint8_t>>(std::move(*h));
      }
      auto cluster = store->read_cluster(frag);
      if (!cluster) return cluster.error();
      return Decoded{av::extract_fragment_images(**header_slot, *cluster, instants_ns, options)};
    };
    std::optional<kvs::Result<Decoded>> result;
    {
      co_await decode_gate().acquire();
      struct Permit {
        ~Permit() { decode_gate().release(); }
      } permit;
      result.emplace(co_await exec::offload(*ctx.pool, decode));
    }
    auto& decoded = *result;
    if (!decoded) {
      spdlog::error("getImages {}: fragment {}: {}", stream->stream_name, frag.fragment_number,
                    decoded.error().message);
      co_await http::send_error(w, decoded.error());
      co_return;
    }
    auto& images = decoded->images;
    if (!images.error.empty())
      spdlog::info("getImages {}: fragment {}: {}", stream->stream_name, frag.fragment_number, images.error);
    for (std::size_t k = 0; k < fw.samples.size(); ++k) {
      const auto i = fw.samples[k];
      if (i >= page_end) break;
      auto& image = images.images[k];
      if (image.status == av::ImageStatus::ok) {
        const std::size_t encoded = (image.bytes->size() + 2) / 3 * 4;
        if (response_bytes + encoded > kMaxResponseBytes && i > 0) {
          page_end = i;  // this sample starts the next page
          break;
        }
        response_bytes += encoded;
      }
      samples[i].status = image.status;
      samples[i].bytes = std::move(image.bytes);
    }
  }
  if (page_end < samples.size()) {
    next_ms = samples[page_end].at_ms;
    samples.resize(page_end);
  }

  Json list = Json::array();
  for (const auto& s : samples) {
    Json o = Json::object();
    o["TimeStamp"] = epoch_seconds_json(s.at_ms);
    switch (s.status) {
      case av::ImageStatus::ok:
        o["ImageContent"] =
            kvs::base64_encode(std::string_view(reinterpret_cast<const char*>(s.bytes->data()), s.bytes->size()));
        break;
      case av::ImageStatus::no_media:
        o["Error"] = "NO_MEDIA";
        break;
      case av::ImageStatus::media_error:
        o["Error"] = "MEDIA_ERROR";
        break;
    }
    list.push_back(std::move(o));
  }
  Json out = Json::object();
  out["Images"] = std::move(list);
  if (next_ms) out["NextToken"] = encode_token(*next_ms);
  http::Headers h{{"content-type", "application/json"}};
  std::string text = out.dump();
  co_await w.send(200, std::move(h), std::move(text));
}

}  // namespace

void add_get_images_route(http::Router& router, const MediaReadContext& ctx) {
  add_read_route(router, ctx, "/getImages", "GetImages", get_images);
}

}  // namespace kvsd::api::detail
