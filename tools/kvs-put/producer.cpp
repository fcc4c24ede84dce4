#include "producer.hpp"

#include <openssl/rand.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include "control_plane_client.hpp"

namespace kvsput {
namespace {

constexpr int kDescribeAttempts = 5;
constexpr std::chrono::milliseconds kRetryDelay{500};

// The SDK's formatting: a tab-indented JSON object, one member per line.
std::string sdk_json(const std::vector<std::pair<std::string, nlohmann::json>>& members) {
  std::string out = "{\n";
  for (std::size_t i = 0; i < members.size(); ++i) {
    out += "\t\"" + members[i].first + "\": " + members[i].second.dump() + (i + 1 < members.size() ? ",\n" : "\n");
  }
  return out + "}";
}

// A random 16-character [0-9A-Z] device name, as the SDK makes when the app gives none.
std::string random_device_name() {
  static constexpr char kAlphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  unsigned char bytes[16];
  RAND_bytes(bytes, sizeof bytes);
  std::string out;
  for (unsigned char b : bytes) out.push_back(kAlphabet[b % 36]);
  return out;
}

std::string describe(const HttpResult& r) {
  if (r.status == 0) return r.error;
  return "HTTP " + std::to_string(r.status) + " " + r.body;
}

}  // namespace

asio::awaitable<SessionResult> run_producer(const ClientContext& ctx, const Endpoint& cp, ProducerConfig config,
                                            const FrameStore& frames, const SourceInfo& info, Stats& stats) {
  SessionResult failed;
  const std::string& name = config.stream_name;
  int retention = config.retention_hours;
  asio::steady_timer delay(co_await asio::this_coro::executor);
  if (config.start_delay.count() > 0) {
    delay.expires_after(config.start_delay);
    auto [ec] = co_await delay.async_wait(asio::as_tuple(asio::use_awaitable));
    (void)ec;
  }

  bool exists = false;
  for (int attempt = 0; attempt < kDescribeAttempts; ++attempt) {
    const std::string body = sdk_json({{"StreamName", name}});
    const std::string_view path = "/describeStream";
    HttpResult r = co_await post_json(ctx, cp, path, body);
    if (r.status == 404) break;
    if (r.status == 200) {
      const auto j = nlohmann::json::parse(r.body, nullptr, false);
      const auto* si = j.is_object() && j.contains("StreamInfo") ? &j["StreamInfo"] : nullptr;
      if (!si || !si->is_object()) {
        failed.error = "DescribeStream " + name + ": no StreamInfo in " + r.body;
        co_return failed;
      }
      const std::string status = si->value("Status", std::string("CREATING"));
      if (si->contains("DataRetentionInHours") && (*si)["DataRetentionInHours"].is_number_integer()) {
        retention = (*si)["DataRetentionInHours"].get<int>();
      }
      if (status == "ACTIVE") {
        exists = true;
        break;
      }
      if (status != "CREATING" && status != "UPDATING") {
        failed.error = "DescribeStream " + name + ": stream is " + status;
        co_return failed;
      }
    } else if (r.status == 401 || r.status == 403 || r.status == 400 || r.status == 0) {
      failed.error = "DescribeStream " + name + ": " + describe(r);
      co_return failed;
    }
    delay.expires_after(kRetryDelay);
    auto [ec] = co_await delay.async_wait(asio::as_tuple(asio::use_awaitable));
    (void)ec;
    if (attempt + 1 == kDescribeAttempts) {
      failed.error = "DescribeStream " + name + ": not ACTIVE after " + std::to_string(kDescribeAttempts) + " tries";
      co_return failed;
    }
  }
  if (!exists) {
    const std::string body = sdk_json({{"DeviceName", random_device_name()},
                                       {"StreamName", name},
                                       {"MediaType", info.media_type},
                                       {"DataRetentionInHours", config.retention_hours}});
    const std::string_view path = "/createStream";
    HttpResult r = co_await post_json(ctx, cp, path, body);
    if (r.status != 200) {
      failed.error = "CreateStream " + name + ": " + describe(r);
      co_return failed;
    }
    retention = config.retention_hours;
  }

  const std::string gde_body = sdk_json({{"StreamName", name}, {"APIName", "PUT_MEDIA"}});
  const std::string_view gde_path = "/getDataEndpoint";
  HttpResult gde = co_await post_json(ctx, cp, gde_path, gde_body);
  if (gde.status != 200) {
    failed.error = "GetDataEndpoint " + name + ": " + describe(gde);
    co_return failed;
  }
  const auto j = nlohmann::json::parse(gde.body, nullptr, false);
  if (!j.is_object() || !j.contains("DataEndpoint") || !j["DataEndpoint"].is_string()) {
    failed.error = "GetDataEndpoint " + name + ": no DataEndpoint in " + gde.body;
    co_return failed;
  }
  std::string error;
  const auto data_ep = parse_endpoint(j["DataEndpoint"].get<std::string>(), error);
  if (!data_ep) {
    failed.error = "GetDataEndpoint " + name + ": " + error;
    co_return failed;
  }
  if (data_ep->tls && !ctx.tls) {
    failed.error = "GetDataEndpoint " + name + ": https data endpoint but no TLS context";
    co_return failed;
  }

  config.put_media.stream_name = name;
  config.put_media.wait_persisted = retention > 0;
  SessionResult r = co_await run_put_media(ctx, *data_ep, config.put_media, frames, info, stats);
  co_return r;
}

}  // namespace kvsput
