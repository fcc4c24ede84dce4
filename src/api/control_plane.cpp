#include "api/control_plane.hpp"

#include <cmath>
#include <utility>

#include "api/control_plane_common.hpp"
#include "api/validation.hpp"

namespace kvsd::api {

namespace asio = boost::asio;

namespace detail {

asio::awaitable<void> send_json(http::ResponseWriter& w, const Json& body) {
  http::Headers h{{"content-type", "application/json"}};
  std::string text = body.dump();
  co_await w.send(200, std::move(h), std::move(text));
}

Json stream_info_json(const kvs::StreamInfo& s) {
  Json j = Json::object();
  if (!s.device_name.empty()) j["DeviceName"] = s.device_name;
  j["StreamName"] = s.stream_name;
  j["StreamARN"] = s.stream_arn;
  if (!s.media_type.empty()) j["MediaType"] = s.media_type;
  if (!s.kms_key_id.empty()) j["KmsKeyId"] = s.kms_key_id;
  j["Version"] = s.version;
  j["Status"] = kvs::to_string(s.status);
  // Epoch seconds with the milliseconds as a fraction (botocore reads numbers as epoch seconds).
  if (s.creation_time_ms % 1000 == 0)
    j["CreationTime"] = s.creation_time_ms / 1000;
  else
    j["CreationTime"] = static_cast<double>(s.creation_time_ms) / 1000.0;
  j["DataRetentionInHours"] = s.data_retention_in_hours;
  return j;
}

void add_json_route(http::Router& router, const ControlPlaneContext& ctx, const char* path, const char* name,
                    JsonHandler handler) {
  add_signed_json_route(router, *ctx.auth, path, name,
                        [&ctx, handler](http::Request& req, http::ResponseWriter& w, const Json& body) {
                          return handler(ctx, req, w, body);
                        });
}

}  // namespace detail

std::string data_endpoint_for(bool tls, const std::string& authority, const std::string& local_address,
                              std::uint16_t local_port) {
  std::string host;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    host = authority.substr(0, close == std::string::npos ? std::string::npos : close + 1);
  } else if (authority.find(':') != authority.rfind(':')) {
    host = "[" + authority + "]";  // a bare IPv6 address
  } else {
    host = authority.substr(0, authority.find(':'));
  }
  if (host.empty()) {
    host = local_address.find(':') != std::string::npos ? "[" + local_address + "]" : local_address;
  }
  return std::string(tls ? "https://" : "http://") + host + ":" + std::to_string(local_port);
}

void add_control_plane_routes(http::Router& router, const ControlPlaneContext& ctx) {
  detail::add_stream_routes(router, ctx);
  detail::add_tag_routes(router, ctx);
  detail::add_configuration_routes(router, ctx);
  detail::add_unsupported_routes(router, ctx);
}

}  // namespace kvsd::api
