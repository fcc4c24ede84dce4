// ListFragments (POST /listFragments): fragments whose start timestamp (producer or server) lies in
// [StartTimestamp, EndTimestamp], in ascending timestamp order, from the index's timestamp range
// scans; without a FragmentSelector every fragment by server timestamp. NextToken carries the
// selector and the store's cursor, in the model's base64 alphabet.

#include <limits>
#include <string_view>

#include "api/list_fragments_token.hpp"
#include "api/media_read_common.hpp"
#include "api/validation.hpp"
#include "exec/offload.hpp"
#include "kvs/base64.hpp"

namespace kvsd::api::detail {

namespace {

namespace asio = boost::asio;

constexpr std::int64_t kDefaultMaxResults = 1000;
constexpr std::size_t kMaxNextTokenChars = 4096;

kvs::Error invalid(std::string message) { return kvs::Error{kvs::errc::invalid_argument, std::move(message)}; }

std::optional<kvs::Error> parse(const Json& j, kvs::StreamRef& ref, kvs::FragmentQuery& q) {
  if (auto e = validation::stream_ref(j, ref)) return e;
  std::optional<std::int64_t> max_results;
  if (auto e = validation::optional_int(j, "MaxResults", 1, 1000, max_results)) return e;
  q.limit = static_cast<std::size_t>(max_results.value_or(kDefaultMaxResults));
  const auto token = j.find("NextToken");
  if (token != j.end() && !token->is_null()) {
    if (!token->is_string() || !kvs::is_base64_token(token->get_ref<const std::string&>(), kMaxNextTokenChars) ||
        !decode_list_fragments_token(token->get_ref<const std::string&>(), q))
      return invalid("NextToken is not a token returned by ListFragments");
    return std::nullopt;
  }
  const auto sel = j.find("FragmentSelector");
  if (sel == j.end() || sel->is_null()) {
    q.kind = kvs::TimestampKind::server;
    q.from_ms = std::numeric_limits<std::int64_t>::min();
    q.to_ms = std::numeric_limits<std::int64_t>::max();
    return std::nullopt;
  }
  TimestampSelector s;
  if (auto e = timestamp_selector(j, "FragmentSelector", s)) return e;
  q.kind = s.kind;
  q.from_ms = s.start_ms;
  q.to_ms = s.end_ms;
  return std::nullopt;
}

Json fragment_json(const kvs::FragmentRecord& f) {
  Json o = Json::object();
  o["FragmentNumber"] = f.fragment_number;
  o["FragmentSizeInBytes"] = f.size_bytes;
  o["ProducerTimestamp"] = epoch_seconds_json(f.producer_timestamp_ms);
  o["ServerTimestamp"] = epoch_seconds_json(f.server_timestamp_ms);
  o["FragmentLengthInMilliseconds"] = f.duration_ms;
  return o;
}

asio::awaitable<void> list_fragments(const MediaReadContext& ctx, http::Request&, http::ResponseWriter& w,
                                     const Json& j) {
  kvs::StreamRef ref;
  kvs::FragmentQuery q;
  if (co_await http::refused(w, parse(j, ref, q))) co_return;
  auto stream = co_await resolve_stream(ctx, ref);
  if (co_await http::refused(w, stream)) co_return;
  q.stream_id = stream->stream_id;
  auto* fragments = ctx.fragments;
  auto work = [fragments, &q] { return fragments->list(q); };
  auto page = co_await exec::offload(*ctx.pool, work);
  if (co_await http::refused(w, page)) co_return;
  Json list = Json::array();
  for (const auto& f : page->fragments) list.push_back(fragment_json(f));
  Json out = Json::object();
  out["Fragments"] = std::move(list);
  if (!page->next_cursor.empty()) out["NextToken"] = encode_list_fragments_token(q, page->next_cursor);
  http::Headers h{{"content-type", "application/json"}};
  std::string text = out.dump();
  co_await w.send(200, std::move(h), std::move(text));
}

}  // namespace

void add_list_fragments_route(http::Router& router, const MediaReadContext& ctx) {
  add_read_route(router, ctx, "/listFragments", "ListFragments", list_fragments);
}

}  // namespace kvsd::api::detail
