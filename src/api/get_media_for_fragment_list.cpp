// GetMediaForFragmentList (POST /getMediaForFragmentList): the listed fragments, in request order,
// each as one complete MKV document (media/kvs_chunk.hpp). Every number is checked against the
// stream's index before the 200 is sent, so an unknown number is a JSON error, never a cut body.
// Cluster bytes are sent unchanged from the segment files: batches of up to kReadBatchBytes are
// opened and read into the page cache on the pool (the next batch while the current one is
// sent), then sent with ResponseWriter::write_file (sendfile on cleartext HTTP/1.1).

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <map>
#include <string_view>

#include "api/media_read_common.hpp"
#include "api/validation.hpp"
#include "exec/async_event.hpp"
#include "exec/offload.hpp"

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
  std::vector<kvs::ClusterFile> clusters;
  std::map<std::uint64_t, std::vector<std::uint8_t>> headers;  // header ids not read before
};

// One batch read in flight on the pool; `done` fires on the request's strand.
struct PendingRead {
  explicit PendingRead(const asio::any_io_executor& ex) : done(ex) {}
  std::optional<kvs::Result<Batch>> result;
  exec::AsyncEvent done;
};

// Starts reading the records from `next` on, up to kReadBatchBytes (at least one), plus any
// header not in `known`. nullptr when nothing is left. The work holds copies of what it reads, so
// a request that ends early leaves nothing dangling.
std::shared_ptr<PendingRead> start_read(asio::thread_pool& pool, const asio::any_io_executor& ex,
                                        kvs::FragmentStore& store, std::uint64_t stream_id,
                                        const std::vector<kvs::FragmentRecord>& records, std::size_t next,
                                        const std::map<std::uint64_t, std::vector<std::uint8_t>>& known) {
  if (next >= records.size()) return nullptr;
  std::vector<kvs::FragmentRecord> slice;
  std::uint64_t bytes = 0;
  for (std::size_t i = next; i < records.size(); ++i) {
    if (!slice.empty() && bytes + records[i].size_bytes > kReadBatchBytes) break;
    bytes += records[i].size_bytes;
    slice.push_back(records[i]);
  }
  std::vector<std::uint64_t> wanted;
  for (const auto& f : slice)
    if (!known.count(f.header_id) && std::find(wanted.begin(), wanted.end(), f.header_id) == wanted.end())
      wanted.push_back(f.header_id);
  auto pending = std::make_shared<PendingRead>(ex);
  asio::post(pool, [pending, ex, &store, stream_id, slice = std::move(slice), wanted = std::move(wanted)] {
    auto read = [&]() -> kvs::Result<Batch> {
      Batch b;
      for (auto id : wanted) {
        auto hdr = store.read_header(stream_id, id);
        if (!hdr) return hdr.error();
        b.headers.emplace(id, std::move(*hdr));
      }
      auto clusters = store.open_clusters(slice);
      if (!clusters) return clusters.error();
      b.clusters = std::move(*clusters);
      return b;
    };
    auto r = read();
    asio::post(ex, [pending, r = std::move(r)]() mutable {
      pending->result.emplace(std::move(r));
      pending->done.notify();
    });
  });
  return pending;
}

asio::awaitable<void> get_media_for_fragment_list(const MediaReadContext& ctx, http::Request&, http::ResponseWriter& w,
                                                  const Json& j) {
  kvs::StreamRef ref;
  std::vector<std::string> numbers;
  if (co_await http::refused(w, parse(ctx, j, ref, numbers))) co_return;
  auto stream = co_await resolve_stream(ctx, ref);
  if (co_await http::refused(w, stream)) co_return;
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
  auto loaded = co_await exec::offload(*ctx.pool, lookup);
  if (co_await http::refused(w, loaded)) co_return;
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
  // Batch i+1 is read on the pool while batch i is written, so disk and network overlap.
  const auto& records = loaded->records;
  std::map<std::uint64_t, std::vector<std::uint8_t>> headers;
  auto ex = co_await asio::this_coro::executor;
  std::size_t next = 0;
  auto ahead = start_read(*ctx.pool, ex, *store, stream_id, records, next, headers);
  while (ahead) {
    auto current = std::move(ahead);
    while (!current->result) co_await current->done.wait();
    if (!*current->result) {
      // The 200 is out: end the body early; the client sees fewer documents than it asked for.
      spdlog::error("getMediaForFragmentList {}: read failed: {}", stream->stream_name,
                    current->result->error().message);
      break;
    }
    auto& batch = current->result->value();
    for (auto& [id, bytes_of_header] : batch.headers) headers.emplace(id, std::move(bytes_of_header));
    const auto first = next;
    next += batch.clusters.size();
    ahead = start_read(*ctx.pool, ex, *store, stream_id, records, next, headers);
    for (std::size_t i = 0; i < batch.clusters.size(); ++i) {
      const auto& f = records[first + i];
      if (!co_await send_chunk(w, headers[f.header_id], f, batch.clusters[i])) co_return;
    }
  }
  co_await w.finish();
}

}  // namespace

void add_get_media_for_fragment_list_route(http::Router& router, const MediaReadContext& ctx) {
  add_read_route(router, ctx, "/getMediaForFragmentList", "GetMediaForFragmentList", get_media_for_fragment_list);
}

}  // namespace kvsd::api::detail
