// TagStream, UntagStream, ListTagsForStream (by stream name or ARN, tags as a map) and
// TagResource, UntagResource, ListTagsForResource (by ResourceARN, TagResource takes a list).

#include <optional>
#include <vector>

#include "api/control_plane_common.hpp"
#include "api/validation.hpp"
#include "exec/offload.hpp"

namespace kvsd::api::detail {

namespace {

namespace asio = boost::asio;
namespace v = validation;

constexpr const char* kArnRule = "the kinesisvideo resource ARN format";
constexpr const char* kTokenRule = "length 0-512, pattern [a-zA-Z0-9+/=]*";

// ResourceARN for the *Resource operations; only stream ARNs name anything in kvsd.
std::optional<kvs::Error> resource_ref(const Json& j, kvs::StreamRef& ref) {
  return v::required_string(j, "ResourceARN", v::is_resource_arn, kArnRule, ref.arn);
}

asio::awaitable<void> apply_tags(const ControlPlaneContext& ctx, http::ResponseWriter& w, const kvs::StreamRef& ref,
                                 const kvs::Tags& tags) {
  auto* store = ctx.store;
  co_await answer(
      ctx, w, [store, &ref, &tags] { return store->tag(ref, tags); }, empty_object);
}

asio::awaitable<void> remove_tags(const ControlPlaneContext& ctx, http::ResponseWriter& w, const kvs::StreamRef& ref,
                                  const std::vector<std::string>& keys) {
  auto* store = ctx.store;
  co_await answer(
      ctx, w, [store, &ref, &keys] { return store->untag(ref, keys); }, empty_object);
}

asio::awaitable<void> send_tags(const ControlPlaneContext& ctx, http::ResponseWriter& w, const kvs::StreamRef& ref) {
  auto* store = ctx.store;
  co_await answer(
      ctx, w, [store, &ref] { return store->list_tags(ref); },
      [&](const auto& value) {
        Json out = Json::object();
        out["Tags"] = Json::object();
        for (const auto& [k, val] : value) out["Tags"][k] = val;  // at most 50: one page
        return out;
      });
}

asio::awaitable<void> tag_stream(const ControlPlaneContext& ctx, http::Request&, http::ResponseWriter& w,
                                 const Json& j) {
  kvs::StreamRef ref;
  kvs::Tags tags;
  std::optional<kvs::Error> err = v::stream_ref(j, ref);
  if (!err) err = v::tag_map(j, "Tags", true, tags);
  if (co_await refused(w, err)) co_return;
  co_await apply_tags(ctx, w, ref, tags);
}

asio::awaitable<void> untag_stream(const ControlPlaneContext& ctx, http::Request&, http::ResponseWriter& w,
                                   const Json& j) {
  kvs::StreamRef ref;
  std::vector<std::string> keys;
  std::optional<kvs::Error> err = v::stream_ref(j, ref);
  if (!err) err = v::tag_keys(j, "TagKeyList", keys);
  if (co_await refused(w, err)) co_return;
  co_await remove_tags(ctx, w, ref, keys);
}

asio::awaitable<void> list_tags_for_stream(const ControlPlaneContext& ctx, http::Request&, http::ResponseWriter& w,
                                           const Json& j) {
  kvs::StreamRef ref;
  std::optional<std::string> token;
  std::optional<kvs::Error> err = v::stream_ref(j, ref);
  if (!err) err = v::optional_string(j, "NextToken", v::is_next_token, kTokenRule, token);
  if (co_await refused(w, err)) co_return;
  co_await send_tags(ctx, w, ref);
}

asio::awaitable<void> tag_resource(const ControlPlaneContext& ctx, http::Request&, http::ResponseWriter& w,
                                   const Json& j) {
  kvs::StreamRef ref;
  kvs::Tags tags;
  std::optional<kvs::Error> err = resource_ref(j, ref);
  if (!err) err = v::tag_list(j, "Tags", tags);
  if (co_await refused(w, err)) co_return;
  co_await apply_tags(ctx, w, ref, tags);
}

asio::awaitable<void> untag_resource(const ControlPlaneContext& ctx, http::Request&, http::ResponseWriter& w,
                                     const Json& j) {
  kvs::StreamRef ref;
  std::vector<std::string> keys;
  std::optional<kvs::Error> err = resource_ref(j, ref);
  if (!err) err = v::tag_keys(j, "TagKeyList", keys);
  if (co_await refused(w, err)) co_return;
  co_await remove_tags(ctx, w, ref, keys);
}

asio::awaitable<void> list_tags_for_resource(const ControlPlaneContext& ctx, http::Request&, http::ResponseWriter& w,
                                             const Json& j) {
  kvs::StreamRef ref;
  std::optional<std::string> token;
  std::optional<kvs::Error> err = resource_ref(j, ref);
  if (!err) err = v::optional_string(j, "NextToken", v::is_next_token, kTokenRule, token);
  if (co_await refused(w, err)) co_return;
  co_await send_tags(ctx, w, ref);
}

}  // namespace

void add_tag_routes(http::Router& router, const ControlPlaneContext& ctx) {
  add_json_route(router, ctx, "/tagStream", "tagStream", tag_stream);
  add_json_route(router, ctx, "/untagStream", "untagStream", untag_stream);
  add_json_route(router, ctx, "/listTagsForStream", "listTagsForStream", list_tags_for_stream);
  add_json_route(router, ctx, "/TagResource", "tagResource", tag_resource);
  add_json_route(router, ctx, "/UntagResource", "untagResource", untag_resource);
  add_json_route(router, ctx, "/ListTagsForResource", "listTagsForResource", list_tags_for_resource);
}

}  // namespace kvsd::api::detail
