#pragma once
// Internal to the control plane handlers: JSON responses, the offloaded store call, and the
// handler signature. Not a public interface.

#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

#include "api/control_plane.hpp"
#include "exec/offload.hpp"
#include "http/aws_error.hpp"

namespace kvsd::api::detail {

using Json = nlohmann::json;

// A control plane handler: the validated JSON object body in, a response out.
using JsonHandler = boost::asio::awaitable<void> (*)(const ControlPlaneContext&, http::Request&, http::ResponseWriter&,
                                                     const Json&);

boost::asio::awaitable<void> send_json(http::ResponseWriter& w, const Json& body);
Json stream_info_json(const kvs::StreamInfo& s);

using http::refused;

// The answer to a body-less success: {}.
inline constexpr auto empty_object = [](const auto& /*value*/) { return Json::object(); };

// Runs `work` (a blocking StreamStore call that returns a kvs::Result) on the offload pool and
// answers with its error, or with 200 and the JSON object `render` makes of its value.
template <class Work, class Render>
boost::asio::awaitable<void> answer(const ControlPlaneContext& ctx, http::ResponseWriter& w, Work work, Render render) {
  auto r = co_await exec::offload(*ctx.pool, std::move(work));
  if (!r) {
    co_await http::send_error(w, r.error());
    co_return;
  }
  co_await send_json(w, render(r.value()));
}

void add_stream_routes(http::Router& router, const ControlPlaneContext& ctx);
void add_tag_routes(http::Router& router, const ControlPlaneContext& ctx);
void add_configuration_routes(http::Router& router, const ControlPlaneContext& ctx);
void add_unsupported_routes(http::Router& router, const ControlPlaneContext& ctx);
void add_json_route(http::Router& router, const ControlPlaneContext& ctx, const char* path, const char* name,
                    JsonHandler handler);

}  // namespace kvsd::api::detail
