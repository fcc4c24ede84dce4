#include "net/connection.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <chrono>
#include <cstring>
#include <optional>

#include "http/http1_session.hpp"
#include "http/http2_session.hpp"
#include "http/session_context.hpp"
#include "net/tls_context.hpp"

namespace kvsd::net {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::string_view kH2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

namespace {

std::shared_ptr<http::ConnectionInfo> describe(const tcp::socket& s, bool tls) {
  auto info = std::make_shared<http::ConnectionInfo>();
  info->tls = tls;
  error_code ec;
  auto local = s.local_endpoint(ec);
  if (!ec) {
    info->local_address = local.address().to_string();
    info->local_port = local.port();
  }
  auto remote = s.remote_endpoint(ec);
  if (!ec) {
    info->remote_address = remote.address().to_string();
    info->remote_port = remote.port();
  }
  return info;
}

// Refusals and evictions come in floods under attack: at most one log line per second for them
// (the metrics count every one).
bool refusals_log_due() {
  static std::atomic<std::int64_t> last_ms{0};
  const auto now =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count();
  auto prev = last_ms.load(std::memory_order_relaxed);
  return now - prev >= 1000 && last_ms.compare_exchange_strong(prev, now, std::memory_order_relaxed);
}

// Reads until the buffer either holds the whole HTTP/2 preface or diverges from it.
asio::awaitable<bool> sniff_h2(tcp::socket& s, boost::beast::flat_buffer& buf, obs::HttpMetrics& metrics) {
  for (;;) {
    const auto data = buf.cdata();
    const std::size_t have = std::min(data.size(), kH2Preface.size());
    if (std::memcmp(data.data(), kH2Preface.data(), have) != 0) co_return false;
    if (have == kH2Preface.size()) co_return true;
    auto [ec, n] = co_await s.async_read_some(buf.prepare(4096), kTuple);
    if (ec) co_return false;
    buf.commit(n);
    metrics.bytes_received.inc(n);
  }
}

// Closes the socket if the connection is still in a setup phase (handshake, protocol sniff) when
// the limit passes. disarm() must be called, on the strand, before the socket can go away.
class SetupTimer {
 public:
  explicit SetupTimer(const asio::any_io_executor& ex) : timer_(ex) {}
  // `expired` is counted when the timer closes the socket.
  void arm(tcp::socket& s, std::chrono::milliseconds limit, obs::Counter& expired) {
    armed_ = std::make_shared<bool>(true);
    timer_.expires_after(limit);
    timer_.async_wait([&s, &expired, armed = armed_](error_code ec) {
      if (!ec && *armed) {
        expired.inc();
        error_code ignored;
        s.close(ignored);
      }
    });
  }
  void disarm() {
    if (armed_) *armed_ = false;
    timer_.cancel();
  }

 private:
  asio::steady_timer timer_;
  std::shared_ptr<bool> armed_;
};

}  // namespace

asio::awaitable<void> serve_connection(tcp::socket socket, ServerContext& server, asio::ssl::context* tls) {
  auto strand = co_await asio::this_coro::executor;
  auto hooks = std::make_shared<ConnectionHooks>();
  auto info = describe(socket, tls != nullptr);
  const auto admission = server.tracker.try_add(strand, hooks, info->remote_address, server.limits.max_connections,
                                                server.limits.max_connections_per_address);
  if (admission.outcome != Admission::Outcome::admitted) {
    const bool per_address = admission.outcome == Admission::Outcome::per_address_limit;
    server.metrics.connections_rejected.inc();
    if (refusals_log_due()) {
      spdlog::warn("connection from {} refused: {}", info->remote_address,
                   per_address ? fmt::format("{} connections open from it (limits.max_connections_per_address)",
                                             server.limits.max_connections_per_address)
                               : fmt::format("{} connections open, all authenticated (limits.max_connections)",
                                             server.limits.max_connections));
    }
    co_return;
  }
  if (admission.evicted_one) {
    server.metrics.connections_evicted.inc();
    if (refusals_log_due())
      spdlog::warn("at limits.max_connections ({}): closing the oldest unauthenticated connection for one from {}",
                   server.limits.max_connections, info->remote_address);
  }
  info->authenticated = std::shared_ptr<std::atomic<bool>>(hooks, &hooks->authenticated);
  server.metrics.connections_open.add(1);
  error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);

  http::SessionContext ctx{server.dispatcher, server.limits, server.metrics, std::move(info), false, {}};
  tcp::socket* raw = &socket;
  hooks->abort = [&raw] {
    error_code e;
    if (raw != nullptr) raw->close(e);
  };
  hooks->drain = [&ctx, &raw] {
    ctx.draining = true;
    if (ctx.on_drain) {
      ctx.on_drain();
    } else if (raw != nullptr) {
      error_code e;
      raw->close(e);  // still in setup: no exchange to finish
    }
  };

  SetupTimer setup_timer(strand);
  if (tls != nullptr) {
    asio::ssl::stream<tcp::socket> stream(std::move(socket), *tls);
    raw = &stream.next_layer();
    setup_timer.arm(stream.next_layer(), server.limits.tls_handshake_timeout,
                    server.metrics.timeouts_total.with({"tls_handshake"}));
    auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::server, kTuple);
    setup_timer.disarm();
    if (ec) {
      spdlog::debug("TLS handshake with {} failed: {}", ctx.info->remote_address, ec.message());
    } else if (selected_alpn(stream.native_handle()) == "h2") {
      server.metrics.connections_total.with({"h2"}).inc();
      co_await http::run_http2_session(stream, std::string{}, ctx);
    } else {
      server.metrics.connections_total.with({"http/1.1"}).inc();
      co_await http::run_http1_session(stream, boost::beast::flat_buffer{}, ctx);
    }
    raw = nullptr;
  } else {
    boost::beast::flat_buffer buf;
    setup_timer.arm(socket, server.limits.idle_timeout, server.metrics.timeouts_total.with({"idle"}));
    auto [ec, n] = co_await socket.async_read_some(buf.prepare(4096), kTuple);
    setup_timer.disarm();
    if (!ec) {
      buf.commit(n);
      server.metrics.bytes_received.inc(n);
      setup_timer.arm(socket, server.limits.header_timeout, server.metrics.timeouts_total.with({"header"}));
      const bool h2 = co_await sniff_h2(socket, buf, server.metrics);
      setup_timer.disarm();
      if (h2) {
        server.metrics.connections_total.with({"h2c"}).inc();
        const auto data = buf.cdata();
        co_await http::run_http2_session(socket, std::string(static_cast<const char*>(data.data()), data.size()), ctx);
      } else if (socket.is_open()) {
        server.metrics.connections_total.with({"http/1.1"}).inc();
        co_await http::run_http1_session(socket, std::move(buf), ctx);
      }
    }
    raw = nullptr;
  }
  hooks->alive = false;
  hooks->abort = nullptr;
  hooks->drain = nullptr;
  server.tracker.remove(admission.id);
  server.metrics.connections_open.add(-1);
}

}  // namespace kvsd::net
