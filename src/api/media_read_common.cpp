#include "api/media_read_common.hpp"

#include <spdlog/spdlog.h>

#include <cmath>
#include <limits>
#include <tuple>
#include <utility>

#include "api/validation.hpp"
#include "exec/offload.hpp"
#include "media/kvs_chunk.hpp"

namespace kvsd::api::detail {

namespace asio = boost::asio;

namespace {

kvs::Error invalid(std::string message) { return kvs::Error{kvs::errc::invalid_argument, std::move(message)}; }

const Json* member(const Json& j, const char* field) {
  const auto it = j.find(field);
  if (it == j.end() || it->is_null()) return nullptr;
  return &*it;
}

}  // namespace

void add_read_route(http::Router& router, const MediaReadContext& ctx, const char* path, const char* name,
                    ReadHandler handler) {
  add_signed_json_route(router, *ctx.auth, path, name,
                        [&ctx, handler](http::Request& req, http::ResponseWriter& w, const Json& body) {
                          return handler(ctx, req, w, body);
                        });
}

std::optional<kvs::Error> timestamp_ms(const Json& j, const char* field, bool required,
                                       std::optional<std::int64_t>& out) {
  out.reset();
  const auto* v = member(j, field);
  if (v == nullptr) {
    if (required) return invalid(std::string(field) + " is required");
    return std::nullopt;
  }
  if (!v->is_number()) return invalid(std::string(field) + " must be a number of epoch seconds");
  const double seconds = v->get<double>();
  // Epoch seconds between 0 and year 9999 (epoch milliseconds then fit easily in int64).
  if (!std::isfinite(seconds) || seconds < 0 || seconds > 253402300799.0)
    return invalid(std::string(field) + " must be epoch seconds between 0 and 253402300799");
  out = static_cast<std::int64_t>(std::llround(seconds * 1000.0));
  return std::nullopt;
}

std::optional<kvs::Error> timestamp_range(const Json& range, const std::string& path, bool end_required,
                                          std::optional<std::int64_t>& start, std::optional<std::int64_t>& end) {
  if (!range.is_object()) return invalid(path + " must be an object");
  for (auto [name, required, out] :
       {std::tuple{"StartTimestamp", true, &start}, std::tuple{"EndTimestamp", end_required, &end}}) {
    if (auto e = timestamp_ms(range, name, required, *out)) {
      e->message = path + "." + e->message;
      return e;
    }
  }
  if (end && *end < *start) return invalid(path + ": EndTimestamp is before StartTimestamp");
  return std::nullopt;
}

std::optional<kvs::Error> timestamp_selector(const Json& j, const char* field, TimestampSelector& out) {
  const auto* sel = member(j, field);
  if (sel == nullptr) return invalid(std::string(field) + " is required");
  if (!sel->is_object()) return invalid(std::string(field) + " must be an object");
  const auto* type = member(*sel, "FragmentSelectorType");
  if (type == nullptr || !type->is_string())
    return invalid(std::string(field) + ".FragmentSelectorType is required (PRODUCER_TIMESTAMP or SERVER_TIMESTAMP)");
  const auto& t = type->get_ref<const std::string&>();
  if (t == "PRODUCER_TIMESTAMP") {
    out.kind = kvs::TimestampKind::producer;
  } else if (t == "SERVER_TIMESTAMP") {
    out.kind = kvs::TimestampKind::server;
  } else {
    return invalid(std::string(field) + ".FragmentSelectorType must be PRODUCER_TIMESTAMP or SERVER_TIMESTAMP");
  }
  const auto* range = member(*sel, "TimestampRange");
  if (range == nullptr)
    return invalid(std::string(field) + ".TimestampRange is required (StartTimestamp, EndTimestamp)");
  std::optional<std::int64_t> start;
  std::optional<std::int64_t> end;
  if (auto e = timestamp_range(*range, std::string(field) + ".TimestampRange", true, start, end)) return e;
  out.start_ms = *start;
  out.end_ms = *end;
  return std::nullopt;
}

asio::awaitable<kvs::Result<kvs::StreamInfo>> resolve_stream(const MediaReadContext& ctx, const kvs::StreamRef& ref) {
  auto* streams = ctx.streams;
  auto work = [streams, ref] { return streams->describe(ref); };
  co_return co_await exec::offload(*ctx.pool, work);
}

asio::awaitable<kvs::Result<kvs::StreamInfo>> resolve_retained_stream(const MediaReadContext& ctx,
                                                                      const kvs::StreamRef& ref) {
  auto stream = co_await resolve_stream(ctx, ref);
  if (stream && stream->data_retention_in_hours == 0)
    co_return kvs::Error{kvs::errc::no_data_retention,
                         "stream " + stream->stream_name + " keeps no data (DataRetentionInHours is 0)"};
  co_return stream;
}

Json epoch_seconds_json(std::int64_t ms) {
  if (ms % 1000 == 0) return Json(ms / 1000);
  return Json(static_cast<double>(ms) / 1000.0);
}

bool is_fragment_number(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

namespace {

std::string_view as_text(const std::vector<std::uint8_t>& b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// Writes chunk_prefix(header) for `f`; false when the client is gone or the header is unusable.
asio::awaitable<bool> send_prefix(http::ResponseWriter& w, const std::vector<std::uint8_t>& header,
                                  const kvs::FragmentRecord& f) {
  const media::ChunkInfo info{f.fragment_number, f.server_timestamp_ms, f.producer_timestamp_ms};
  const auto prefix = media::chunk_prefix(header, info);
  if (prefix.empty()) {
    spdlog::error("fragment {}: stored stream header is not an EBML header + Segment; not sent", f.fragment_number);
    co_return false;
  }
  // (No co_await inside co_return's operand: g++ 12 miscompiles it.)
  const auto ec = co_await w.write(as_text(prefix));
  co_return !ec;
}

}  // namespace

asio::awaitable<bool> send_chunk(http::ResponseWriter& w, const std::vector<std::uint8_t>& header,
                                 const kvs::FragmentRecord& f, const std::vector<std::uint8_t>& cluster,
                                 const std::vector<std::uint8_t>& trailer) {
  const bool prefixed = co_await send_prefix(w, header, f);  // (g++ 12: no `!co_await`)
  if (!prefixed) co_return false;
  if (co_await w.write(as_text(cluster))) co_return false;
  if (!trailer.empty() && co_await w.write(as_text(trailer))) co_return false;
  co_return true;
}

asio::awaitable<bool> send_chunk(http::ResponseWriter& w, const std::vector<std::uint8_t>& header,
                                 const kvs::FragmentRecord& f, const kvs::ClusterFile& cluster) {
  const bool prefixed = co_await send_prefix(w, header, f);
  if (!prefixed) co_return false;
  const auto ec = co_await w.write_file(http::FileRange{cluster.file->fd(), cluster.offset, cluster.size});
  co_return !ec;
}

kvs::Error media_error(const media::MediaError& e) {
  switch (e.code) {
    case media::MediaErrc::unsupported_media:
      return {kvs::errc::unsupported_media_type, e.message};
    case media::MediaErrc::missing_codec_private:
      return {kvs::errc::missing_codec_private_data, e.message};
    case media::MediaErrc::invalid_codec_private:
      return {kvs::errc::invalid_codec_private_data, e.message};
    case media::MediaErrc::invalid_media_frame:
      return {kvs::errc::invalid_media_frame, e.message};
    case media::MediaErrc::internal:
      break;
  }
  return {kvs::errc::internal, e.message};
}

}  // namespace kvsd::api::detail

namespace kvsd::api {

void add_media_read_routes(http::Router& router, const MediaReadContext& ctx) {
  detail::add_list_fragments_route(router, ctx);
  detail::add_get_media_for_fragment_list_route(router, ctx);
  detail::add_get_media_route(router, ctx);
  detail::add_get_clip_route(router, ctx);
  detail::add_get_images_route(router, ctx);
}

}  // namespace kvsd::api
