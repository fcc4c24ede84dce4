// DescribeImageGenerationConfiguration, UpdateImageGenerationConfiguration,
// DescribeNotificationConfiguration, UpdateNotificationConfiguration: stored per stream and
// returned; nothing acts on them yet (no images are generated, no notifications sent).

#include <optional>

#include "api/control_plane_common.hpp"
#include "api/validation.hpp"
#include "exec/offload.hpp"

namespace kvsd::api::detail {

namespace {

namespace asio = boost::asio;
namespace v = validation;

Json image_config_json(const kvs::ImageGenerationConfiguration& c) {
  Json j = Json::object();
  j["Status"] = c.status;
  j["ImageSelectorType"] = c.image_selector_type;
  Json dest = Json::object();
  dest["Uri"] = c.destination_uri;
  dest["DestinationRegion"] = c.destination_region;
  j["DestinationConfig"] = std::move(dest);
  j["SamplingInterval"] = c.sampling_interval_ms;
  j["Format"] = c.format;
  if (!c.format_config.empty()) {
    Json fc = Json::object();
    for (const auto& [k, val] : c.format_config) fc[k] = val;
    j["FormatConfig"] = std::move(fc);
  }
  if (c.width_pixels) j["WidthPixels"] = *c.width_pixels;
  if (c.height_pixels) j["HeightPixels"] = *c.height_pixels;
  return j;
}

Json notification_config_json(const kvs::NotificationConfiguration& c) {
  Json j = Json::object();
  j["Status"] = c.status;
  Json dest = Json::object();
  dest["Uri"] = c.destination_uri;
  j["DestinationConfig"] = std::move(dest);
  return j;
}

asio::awaitable<void> describe_image_generation(const ControlPlaneContext& ctx, http::Request&, http::ResponseWriter& w,
                                                const Json& j) {
  kvs::StreamRef ref;
  if (co_await refused(w, v::stream_ref(j, ref))) co_return;
  auto* store = ctx.store;
  co_await answer(
      ctx, w, [store, &ref] { return store->image_generation_configuration(ref); },
      [&](const auto& value) {
        Json out = Json::object();
        if (value) out["ImageGenerationConfiguration"] = image_config_json(*value);
        return out;
      });
}

asio::awaitable<void> update_image_generation(const ControlPlaneContext& ctx, http::Request&, http::ResponseWriter& w,
                                              const Json& j) {
  kvs::StreamRef ref;
  std::optional<kvs::ImageGenerationConfiguration> config;
  std::optional<kvs::Error> err = v::stream_ref(j, ref);
  if (!err) err = v::image_generation_configuration(j, "ImageGenerationConfiguration", config);
  if (co_await refused(w, err)) co_return;
  auto* store = ctx.store;
  co_await answer(
      ctx, w, [store, &ref, &config] { return store->set_image_generation_configuration(ref, config); }, empty_object);
}

asio::awaitable<void> describe_notification(const ControlPlaneContext& ctx, http::Request&, http::ResponseWriter& w,
                                            const Json& j) {
  kvs::StreamRef ref;
  if (co_await refused(w, v::stream_ref(j, ref))) co_return;
  auto* store = ctx.store;
  co_await answer(
      ctx, w, [store, &ref] { return store->notification_configuration(ref); },
      [&](const auto& value) {
        Json out = Json::object();
        if (value) out["NotificationConfiguration"] = notification_config_json(*value);
        return out;
      });
}

asio::awaitable<void> update_notification(const ControlPlaneContext& ctx, http::Request&, http::ResponseWriter& w,
                                          const Json& j) {
  kvs::StreamRef ref;
  std::optional<kvs::NotificationConfiguration> config;
  std::optional<kvs::Error> err = v::stream_ref(j, ref);
  if (!err) err = v::notification_configuration(j, "NotificationConfiguration", config);
  if (co_await refused(w, err)) co_return;
  auto* store = ctx.store;
  co_await answer(
      ctx, w, [store, &ref, &config] { return store->set_notification_configuration(ref, config); }, empty_object);
}

}  // namespace

void add_configuration_routes(http::Router& router, const ControlPlaneContext& ctx) {
  add_json_route(router, ctx, "/describeImageGenerationConfiguration", "describeImageGenerationConfiguration",
                 describe_image_generation);
  add_json_route(router, ctx, "/updateImageGenerationConfiguration", "updateImageGenerationConfiguration",
                 update_image_generation);
  add_json_route(router, ctx, "/describeNotificationConfiguration", "describeNotificationConfiguration",
                 describe_notification);
  add_json_route(router, ctx, "/updateNotificationConfiguration", "updateNotificationConfiguration",
                 update_notification);
}

}  // namespace kvsd::api::detail
