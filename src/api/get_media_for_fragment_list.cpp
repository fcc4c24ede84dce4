// GetMediaForFragmentList (POST /getMediaForFragmentList): the listed fragments, in request order,
// each as one complete MKV document (media/kvs_chunk.hpp). Every number is checked against the
// stream's index before the 200 is sent, so an unknown number is a JSON error, never a cut body.
// Cluster bytes are read from the segment files in batches of up to kReadBatchBytes on the pool
// and sent unchanged.

#include "api/coroutine_frames_warning.hpp"

#include <spdlog/spdlog.h>

#include <map>
#include <string_view>

#include "api/media_read_common.hpp"
#include "api/validation.hpp"
#include "app/offload.hpp"

namespace kvsd::api::detail {

namespace {

namespace asio = boost::asio;

constexpr std::uint64_t kReadBatchBytes = 8ull << 20;
constexpr std::size_t kMaxListedInError = 10;

kvs::Error invalid(std::string message) { return kvs::Error{kvs::errc::invalid_argument, std::move(message)}; }

std::optional<kvs::Error> parse(const MediaReadContext& ctx, const Json& j, kvs::StreamRef& ref,
                                std::vector<std::string>& numbers) {
  if (auto e = validation::stream_ref(j, ref)) return e;
  const auto it = j.find("Fragments");
  if (it == j.end() || it->is_null()) return invalid("Fragments is required");
  if (!it->is_array()) return invalid("Fragments must be a list of fragment numbers");
  const auto max = ctx.limits.max_fragments_per_list_request;
  if (it->empty() || it->size() > max)
    return invalid("Fragments must hold 1 to " + std::to_string(max) + " fragment numbers; got " +
                   std::to_string(it->size()));
  numbers.reserve(it->size());
  for (const auto& v : *it) {
    if (!v.is_string() || !is_fragment_number(v.get_ref<const std::string&>()))
      return invalid("Fragments: each fragment number must be 1-128 decimal digits");
    numbers.push_back(v.get<std::string>());
  }
  return std::nullopt;
}

struct Loaded {
  std::vector<kvs::FragmentRecord> records;  // in request order
  std::vector<std::string> missing;
};

struct Batch {
  std::vector<std::vector<std::uint8_t>> clusters;
  std::map<std::uint64_t, std::vector<std::uint8_t>> headers;  // newly read header ids
};

asio::awaitable<void> get_media_for_fragment_list(const MediaReadContext& ctx, http::Request&, http::ResponseWriter& w,
                                                  const Json& j) {
  kvs::StreamRef ref;
  std::vector<std::string> numbers;
  if (auto e = parse(ctx, j, ref, numbers)) {
    co_await http::send_error(w, *e);
    co_return;
  }
  auto stream = co_await resolve_stream(ctx, ref);
  if (!stream) {
    co_await http::send_error(w, stream.error());
    co_return;
  }
  auto* store = ctx.fragments;
  const auto stream_id = stream->stream_id;
  auto lookup = [store, stream_id, &numbers]() -> kvs::Result<Loaded> {
    Loaded out;
    out.records.reserve(numbers.size());
    for (const auto& n : numbers) {
      auto r = store->get(stream_id, n);
      if (!r) return r.error();
      if (!*r) {
        out.missing.push_back(n);
      } else {
        out.records.push_back(std::move(**r));
      }
    }
    return out;
  };
  auto loaded = co_await app::offload(*ctx.pool, lookup);
  if (!loaded) {
    co_await http::send_error(w, loaded.error());
    co_return;
  }
  if (!loaded->missing.empty()) {
    std::string list;
    for (std::size_t i = 0; i < loaded->missing.size() && i < kMaxListedInError; ++i)
      list += (i ? ", " : " ") + loaded->missing[i];
    if (loaded->missing.size() > kMaxListedInError) list += ", ...";
    co_await http::send_error(w, invalid("Fragment numbers are invalid :" + list));
    co_return;
  }

  http::Headers h{{"content-type", "video/webm"}};
  if (co_await w.start(200, std::move(h))) co_return;
  std::map<std::uint64_t, std::vector<std::uint8_t>> headers;
  const auto& records = loaded->records;
  const std::vector<std::uint8_t> no_trailer;
  std::size_t next = 0;
  while (next < records.size()) {
    // One pool trip reads a batch of clusters and any header not seen yet.
    std::size_t end = next;
    std::uint64_t bytes = 0;
    while (end < records.size() && (end == next || bytes + records[end].size_bytes <= kReadBatchBytes))
      bytes += records[end++].size_bytes;
    std::vector<std::uint64_t> wanted_headers;
    for (std::size_t i = next; i < end; ++i)
      if (!headers.count(records[i].header_id)) wanted_headers.push_back(records[i].header_id);
    auto read = [store, stream_id, &records, next, end, wanted_headers]() -> kvs::Result<Batch> {
      Batch b;
      for (auto id : wanted_headers) {
        if (b.headers.count(id)) continue;
        auto hdr = store->read_header(stream_id, id);
        if (!hdr) return hdr.error();
        b.headers.emplace(id, std::move(*hdr));
      }
      for (std::size_t i = next; i < end; ++i) {
        auto c = store->read_cluster(records[i]);
        if (!c) return c.error();
        b.clusters.push_back(std::move(*c));
      }
      return b;
    };
    auto batch = co_await app::offload(*ctx.pool, read);
    if (!batch) {
      // The 200 is out: end the body early; the client sees fewer documents than it asked for.
      spdlog::error("getMediaForFragmentList {}: read failed: {}", stream->stream_name, batch.error().message);
      break;
    }
    for (auto& [id, bytes_of_header] : batch->headers) headers.emplace(id, std::move(bytes_of_header));
    for (std::size_t i = next; i < end; ++i) {
      const bool ok =
          co_await send_chunk(w, headers[records[i].header_id], records[i], batch->clusters[i - next], no_trailer);
      if (!ok) co_return;
    }
    next = end;
  }
  co_await w.finish();
}

}  // namespace

void add_get_media_for_fragment_list_route(http::Router& router, const MediaReadContext& ctx) {
  add_read_route(router, ctx, "/getMediaForFragmentList", "GetMediaForFragmentList", get_media_for_fragment_list);
}

}  // namespace kvsd::api::detail
