// CreateStream, DescribeStream, ListStreams, DeleteStream, UpdateStream, UpdateDataRetention,
// GetDataEndpoint.

#include <array>
#include <optional>
#include <string_view>

#include "api/control_plane_common.hpp"
#include "api/validation.hpp"
#include "exec/offload.hpp"

namespace kvsd::api::detail {

namespace {

namespace asio = boost::asio;
namespace v = validation;

constexpr const char* kNameRule = "length 1-256, pattern [a-zA-Z0-9_.-]+";
constexpr const char* kDeviceRule = "length 1-128, pattern [a-zA-Z0-9_.-]+";
constexpr const char* kMediaRule = "length 1-128, pattern type/subtype(,type/subtype)* (e.g. video/h264)";
constexpr const char* kVersionRule = "length 1-64, pattern [a-zA-Z0-9]+";
constexpr const char* kArnRule = "the kinesisvideo stream ARN format";
constexpr const char* kTokenRule = "length 0-512, pattern [a-zA-Z0-9+/=]*";

bool is_kms_key_id(std::string_view s) { return !s.empty() && s.size() <= 2048; }

constexpr std::array<std::string_view, 8> kApiNames{"PUT_MEDIA",
                                                    "GET_MEDIA",
                                                    "LIST_FRAGMENTS",
                                                    "GET_MEDIA_FOR_FRAGMENT_LIST",
                                                    "GET_HLS_STREAMING_SESSION_URL",
                                                    "GET_DASH_STREAMING_SESSION_URL",
                                                    "GET_CLIP",
                                                    "GET_IMAGES"};
bool is_api_name(std::string_view s) {
  for (auto n : kApiNames)
    if (n == s) return true;
  return false;
}
bool is_retention_operation(std::string_view s) {
  return s == "INCREASE_DATA_RETENTION" || s == "DECREASE_DATA_RETENTION";
}
bool is_comparison_operator(std::string_view s) { return s == "BEGINS_WITH"; }

std::optional<kvs::Error> parse_create(const Json& j, kvs::CreateStreamInput& in) {
  std::optional<std::string> s;
  if (auto e = v::required_string(j, "StreamName", v::is_stream_name, kNameRule, in.stream_name)) return e;
  if (auto e = v::optional_string(j, "DeviceName", v::is_device_name, kDeviceRule, s)) return e;
  in.device_name = s.value_or(std::string());
  if (auto e = v::optional_string(j, "MediaType", v::is_media_type, kMediaRule, s)) return e;
  in.media_type = s.value_or(std::string());
  if (auto e = v::optional_string(j, "KmsKeyId", is_kms_key_id, "length 1-2048", s)) return e;
  in.kms_key_id = s.value_or(std::string());
  std::optional<std::int64_t> hours;
  if (auto e = v::optional_int(j, "DataRetentionInHours", 0, kvs::kMaxDataRetentionHours, hours)) return e;
  in.data_retention_in_hours = static_cast<std::int32_t>(hours.value_or(0));
  return v::tag_map(j, "Tags", false, in.tags);
}

asio::awaitable<void> create_stream(const ControlPlaneContext& ctx, http::Request&, http::ResponseWriter& w,
                                    const Json& j) {
  kvs::CreateStreamInput in;
  if (co_await refused(w, parse_create(j, in))) co_return;
  auto* store = ctx.store;
  co_await answer(
      ctx, w, [store, &in] { return store->create(in); },
      [&](const auto& value) {
        Json out = Json::object();
        out["StreamARN"] = value.stream_arn;
        return out;
      });
}

asio::awaitable<void> describe_stream(const ControlPlaneContext& ctx, http::Request&, http::ResponseWriter& w,
                                      const Json& j) {
  kvs::StreamRef ref;
  if (co_await refused(w, v::stream_ref(j, ref))) co_return;
  auto* store = ctx.store;
  co_await answer(
      ctx, w, [store, &ref] { return store->describe(ref); },
      [&](const auto& value) {
        Json out = Json::object();
        out["StreamInfo"] = stream_info_json(value);
        return out;
      });
}

std::optional<kvs::Error> parse_list(const Json& j, kvs::ListStreamsInput& in) {
  std::optional<std::int64_t> max;
  if (auto e = v::optional_int(j, "MaxResults", 1, 10000, max)) return e;
  in.max_results = static_cast<std::size_t>(max.value_or(10000));
  std::optional<std::string> token;
  if (auto e = v::optional_string(j, "NextToken", v::is_next_token, kTokenRule, token)) return e;
  in.next_token = token.value_or(std::string());
  const auto it = j.find("StreamNameCondition");
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (!it->is_object()) return kvs::Error{kvs::errc::invalid_argument, "StreamNameCondition must be an object"};
  std::optional<std::string> op;
  std::optional<std::string> value;
  if (auto e = v::optional_string(*it, "ComparisonOperator", is_comparison_operator, "one of BEGINS_WITH", op))
    return e;
  if (auto e = v::optional_string(*it, "ComparisonValue", v::is_stream_name, kNameRule, value)) return e;
  in.name_prefix = value.value_or(std::string());
  return std::nullopt;
}

asio::awaitable<void> list_streams(const ControlPlaneContext& ctx, http::Request&, http::ResponseWriter& w,
                                   const Json& j) {
  kvs::ListStreamsInput in;
  if (co_await refused(w, parse_list(j, in))) co_return;
  auto* store = ctx.store;
  co_await answer(
      ctx, w, [store, &in] { return store->list(in); },
      [&](const auto& value) {
        Json out = Json::object();
        out["StreamInfoList"] = Json::array();
        for (const auto& s : value.streams) out["StreamInfoList"].push_back(stream_info_json(s));
        if (!value.next_token.empty()) out["NextToken"] = value.next_token;
        return out;
      });
}

asio::awaitable<void> delete_stream(const ControlPlaneContext& ctx, http::Request&, http::ResponseWriter& w,
                                    const Json& j) {
  kvs::StreamRef ref;
  std::optional<std::string> version;
  std::optional<kvs::Error> err = v::required_string(j, "StreamARN", v::is_resource_arn, kArnRule, ref.arn);
  if (!err) err = v::optional_string(j, "CurrentVersion", v::is_version, kVersionRule, version);
  if (co_await refused(w, err)) co_return;
  const std::string current = version.value_or(std::string());
  auto* store = ctx.store;
  co_await answer(
      ctx, w, [store, &ref, &current] { return store->remove(ref, current); }, empty_object);
}

asio::awaitable<void> update_stream(const ControlPlaneContext& ctx, http::Request&, http::ResponseWriter& w,
                                    const Json& j) {
  kvs::UpdateStreamInput in;
  std::optional<kvs::Error> err = v::stream_ref(j, in.ref);
  if (!err) err = v::required_string(j, "CurrentVersion", v::is_version, kVersionRule, in.current_version);
  if (!err) err = v::optional_string(j, "DeviceName", v::is_device_name, kDeviceRule, in.device_name);
  if (!err) err = v::optional_string(j, "MediaType", v::is_media_type, kMediaRule, in.media_type);
  if (co_await refused(w, err)) co_return;
  auto* store = ctx.store;
  co_await answer(
      ctx, w, [store, &in] { return store->update(in); }, empty_object);
}

asio::awaitable<void> update_data_retention(const ControlPlaneContext& ctx, http::Request&, http::ResponseWriter& w,
                                            const Json& j) {
  kvs::UpdateRetentionInput in;
  std::string op;
  std::optional<std::int64_t> change;
  std::optional<kvs::Error> err = v::stream_ref(j, in.ref);
  if (!err) err = v::required_string(j, "CurrentVersion", v::is_version, kVersionRule, in.current_version);
  if (!err)
    err = v::required_string(j, "Operation", is_retention_operation,
                             "one of INCREASE_DATA_RETENTION, DECREASE_DATA_RETENTION", op);
  if (!err) err = v::optional_int(j, "DataRetentionChangeInHours", 1, kvs::kMaxDataRetentionHours, change);
  if (!err && !change) err = kvs::Error{kvs::errc::invalid_argument, "DataRetentionChangeInHours is required"};
  if (co_await refused(w, err)) co_return;
  in.operation =
      op == "INCREASE_DATA_RETENTION" ? kvs::RetentionOperation::increase : kvs::RetentionOperation::decrease;
  in.change_in_hours = static_cast<std::int32_t>(*change);
  auto* store = ctx.store;
  co_await answer(
      ctx, w, [store, &in] { return store->update_retention(in); }, empty_object);
}

asio::awaitable<void> get_data_endpoint(const ControlPlaneContext& ctx, http::Request& req, http::ResponseWriter& w,
                                        const Json& j) {
  kvs::StreamRef ref;
  std::string api_name;
  std::optional<kvs::Error> err = v::stream_ref(j, ref);
  if (!err) err = v::required_string(j, "APIName", is_api_name, "one of the APIName enum values", api_name);
  if (co_await refused(w, err)) co_return;
  auto* store = ctx.store;
  co_await answer(
      ctx, w, [store, &ref] { return store->describe(ref); },
      [&](const auto& /*stream*/) {
        Json out = Json::object();
        if (!ctx.public_endpoint.empty()) {
          out["DataEndpoint"] = ctx.public_endpoint;
        } else {
          const auto& conn = *req.connection;
          out["DataEndpoint"] = data_endpoint_for(conn.tls, req.authority, conn.local_address, conn.local_port);
        }
        return out;
      });
}

}  // namespace

void add_stream_routes(http::Router& router, const ControlPlaneContext& ctx) {
  add_json_route(router, ctx, "/createStream", "createStream", create_stream);
  add_json_route(router, ctx, "/describeStream", "describeStream", describe_stream);
  add_json_route(router, ctx, "/listStreams", "listStreams", list_streams);
  add_json_route(router, ctx, "/deleteStream", "deleteStream", delete_stream);
  add_json_route(router, ctx, "/updateStream", "updateStream", update_stream);
  add_json_route(router, ctx, "/updateDataRetention", "updateDataRetention", update_data_retention);
  add_json_route(router, ctx, "/getDataEndpoint", "getDataEndpoint", get_data_endpoint);
}

}  // namespace kvsd::api::detail
