// GetClip (POST /getClip): one non-fragmented MP4 of the fragments whose start timestamp lies in
// the TimestampRange, remuxed on the pool by av::build_mp4_clip (libavformat, no decoding).
// At most limits.clip_max_fragments fragments and limits.clip_max_bytes of output, cut silently
// as on AWS. The clip must not span a change of the stream header (codec private data).

#include <spdlog/spdlog.h>

#include <string_view>

#include "api/media_read_common.hpp"
#include "api/validation.hpp"
#include "av/mp4_clip.hpp"
#include "exec/offload.hpp"

namespace kvsd::api::detail {

namespace {

namespace asio = boost::asio;

kvs::Error invalid(std::string message) { return kvs::Error{kvs::errc::invalid_argument, std::move(message)}; }

struct Built {
  std::vector<std::uint8_t> mp4;
  std::size_t fragments = 0;
};

asio::awaitable<void> get_clip(const MediaReadContext& ctx, http::Request&, http::ResponseWriter& w, const Json& j) {
  kvs::StreamRef ref;
  TimestampSelector sel;
  std::optional<kvs::Error> bad = validation::stream_ref(j, ref);
  if (!bad) bad = timestamp_selector(j, "ClipFragmentSelector", sel);
  if (!bad && sel.end_ms <= sel.start_ms)
    bad = invalid("ClipFragmentSelector.TimestampRange: EndTimestamp must be later than StartTimestamp");
  if (!bad && sel.end_ms - sel.start_ms > ctx.limits.clip_max_range_ms)
    bad = invalid("ClipFragmentSelector.TimestampRange may span at most " +
                  std::to_string(ctx.limits.clip_max_range_ms / 3'600'000) + " hours");
  if (co_await http::refused(w, bad)) co_return;
  auto stream = co_await resolve_retained_stream(ctx, ref);
  if (co_await http::refused(w, stream)) co_return;

  auto* store = ctx.fragments;
  const auto stream_id = stream->stream_id;
  const auto limits = ctx.limits;
  auto work = [store, stream_id, sel, limits]() -> kvs::Result<Built> {
    kvs::FragmentQuery q;
    q.stream_id = stream_id;
    q.kind = sel.kind;
    q.from_ms = sel.start_ms;
    q.to_ms = sel.end_ms;
    q.limit = limits.clip_max_fragments;
    auto page = store->list(q);
    if (!page) return page.error();
    auto& fragments = page->fragments;
    if (fragments.empty())
      return kvs::Error{kvs::errc::resource_not_found, "No fragments found in the stream for the requested range."};
    const auto header_id = fragments.front().header_id;
    for (const auto& f : fragments)
      if (f.header_id != header_id)
        return invalid("the stream's codec private data changes at fragment " + f.fragment_number +
                       " within the requested range; a clip cannot span the change");
    auto header = store->read_header(stream_id, header_id);
    if (!header) return header.error();
    std::vector<std::vector<std::uint8_t>> clusters;
    std::uint64_t bytes = 0;
    for (const auto& f : fragments) {
      if (!clusters.empty() && bytes + f.size_bytes > limits.clip_max_bytes) break;
      auto c = store->read_cluster(f);
      if (!c) return c.error();
      bytes += c->size();
      clusters.push_back(std::move(*c));
    }
    std::vector<std::span<const std::uint8_t>> views(clusters.begin(), clusters.end());
    av::ClipLimits clip_limits;
    clip_limits.max_output_bytes = limits.clip_max_bytes;
    auto built = av::build_mp4_clip(*header, views, clip_limits);
    if (auto* err = std::get_if<media::MediaError>(&built)) return media_error(*err);
    auto& result = std::get<av::ClipResult>(built);
    return Built{std::move(result.mp4), result.fragments_used};
  };
  auto built = co_await exec::offload(*ctx.pool, work);
  if (!built) {
    if (built.error().code == kvs::errc::internal)
      spdlog::error("getClip {}: {}", stream->stream_name, built.error().message);
    co_await http::send_error(w, built.error());
    co_return;
  }
  http::Headers h{{"content-type", "video/mp4"}};
  std::string body(reinterpret_cast<const char*>(built->mp4.data()), built->mp4.size());
  co_await w.send(200, std::move(h), std::move(body));
}

}  // namespace

void add_get_clip_route(http::Router& router, const MediaReadContext& ctx) {
  add_read_route(router, ctx, "/getClip", "GetClip", get_clip);
}

}  // namespace kvsd::api::detail
