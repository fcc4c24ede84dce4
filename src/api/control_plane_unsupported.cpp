// KVS control-plane operations kvsd deliberately does not offer (WebRTC signaling channels, edge
// agent and media-storage configuration): each answers a signed request with 400
// NotSupportedException naming the operation, instead of a generic unknown-operation 404.

#include <array>
#include <string>

#include "api/control_plane_common.hpp"
#include "http/aws_error.hpp"

namespace kvsd::api::detail {

namespace asio = boost::asio;

namespace {

struct Unsupported {
  const char* path;
  const char* name;
};

constexpr std::array<Unsupported, 13> kUnsupported{{
    {"/createSignalingChannel", "createSignalingChannel"},
    {"/deleteSignalingChannel", "deleteSignalingChannel"},
    {"/describeSignalingChannel", "describeSignalingChannel"},
    {"/getSignalingChannelEndpoint", "getSignalingChannelEndpoint"},
    {"/listSignalingChannels", "listSignalingChannels"},
    {"/updateSignalingChannel", "updateSignalingChannel"},
    {"/describeEdgeConfiguration", "describeEdgeConfiguration"},
    {"/startEdgeConfigurationUpdate", "startEdgeConfigurationUpdate"},
    {"/deleteEdgeConfiguration", "deleteEdgeConfiguration"},
    {"/listEdgeAgentConfigurations", "listEdgeAgentConfigurations"},
    {"/describeMappedResourceConfiguration", "describeMappedResourceConfiguration"},
    {"/describeMediaStorageConfiguration", "describeMediaStorageConfiguration"},
    {"/updateMediaStorageConfiguration", "updateMediaStorageConfiguration"},
}};

asio::awaitable<void> not_supported(const ControlPlaneContext&, http::Request& req, http::ResponseWriter& w,
                                    const Json&) {
  kvs::Error err{kvs::errc::not_supported,
                 "kvsd does not support " + req.path.substr(1) +
                     ": WebRTC signaling channels, edge agents and media storage configuration are not offered"};
  co_await http::send_error(w, err);
}

}  // namespace

void add_unsupported_routes(http::Router& router, const ControlPlaneContext& ctx) {
  for (const auto& op : kUnsupported) add_json_route(router, ctx, op.path, op.name, not_supported);
}

}  // namespace kvsd::api::detail
