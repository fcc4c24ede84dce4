#pragma once
// Internal to the control plane handlers: JSON responses, the offloaded store call, and the
// handler signature. Not a public interface.

#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include "api/control_plane.hpp"
#include "http/aws_error.hpp"

namespace kvsd::api::detail {

using Json = nlohmann::json;

// A control plane handler: the validated JSON object body in, a response out.
using JsonHandler = boost::asio::awaitable<void> (*)(const ControlPlaneContext&, http::Request&, http::ResponseWriter&,
                                                     const Json&);

boost::asio::awaitable<void> send_json(http::ResponseWriter& w, const Json& body);
Json stream_info_json(const kvs::StreamInfo& s);

void add_stream_routes(http::Router& router, const ControlPlaneContext& ctx);
void add_tag_routes(http::Router& router, const ControlPlaneContext& ctx);
void add_configuration_routes(http::Router& router, const ControlPlaneContext& ctx);
void add_unsupported_routes(http::Router& router, const ControlPlaneContext& ctx);
void add_json_route(http::Router& router, const ControlPlaneContext& ctx, const char* path, const char* name,
                    JsonHandler handler);

}  // namespace kvsd::api::detail
