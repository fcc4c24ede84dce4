#include "http/http2_session.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <exception>
#include <memory>
#include <vector>

#include "http/http2_connection.hpp"
#include "obs/http_metrics.hpp"

namespace kvsd::http {

namespace asio = boost::asio;
using boost::system::error_code;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

namespace {

constexpr std::size_t kReadBuffer = 64 * 1024;
constexpr std::size_t kWriteBatch = 64 * 1024;  // frames gathered into one socket write

template <class Stream>
void close_stream(Stream& stream) {
  error_code ignored;
  auto& sock = boost::beast::get_lowest_layer(stream);
  sock.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  sock.close(ignored);
}

// Ends the connection: every stream fails, every loop sees closed() and the socket goes away.
template <class Stream>
void shut(Stream& stream, Http2Connection& conn) {
  conn.close();
  close_stream(stream);
}

template <class Stream>
asio::awaitable<void> read_loop(Stream& stream, std::shared_ptr<Http2Connection> conn, std::string initial) {
  SessionContext& ctx = conn->context();
  try {
    if (!initial.empty() && !conn->on_receive(reinterpret_cast<const std::uint8_t*>(initial.data()), initial.size())) {
      shut(stream, *conn);
      co_return;
    }
    std::vector<std::uint8_t> buf(kReadBuffer);
    while (conn->want_read()) {
      auto [ec, n] = co_await stream.async_read_some(asio::buffer(buf), kTuple);
      if (conn->closed()) break;
      if (ec) {
        spdlog::debug("h2 {}:{} read ended: {}", ctx.info->remote_address, ctx.info->remote_port, ec.message());
        shut(stream, *conn);
        break;
      }
      ctx.metrics.bytes_received.inc(n);
      if (!conn->on_receive(buf.data(), n)) {
        shut(stream, *conn);
        break;
      }
    }
  } catch (const std::exception& e) {
    spdlog::error("h2 {}:{} reader failed: {}", ctx.info->remote_address, ctx.info->remote_port, e.what());
    shut(stream, *conn);
  }
}

template <class Stream>
asio::awaitable<void> write_loop(Stream& stream, std::shared_ptr<Http2Connection> conn) {
  SessionContext& ctx = conn->context();
  try {
    std::string out;
    out.reserve(kWriteBatch + 16 * 1024);
    while (!conn->closed()) {
      out.clear();
      if (!conn->collect_output(out, kWriteBatch)) break;
      if (!out.empty()) {
        conn->write_started();
        auto [ec, n] = co_await asio::async_write(stream, asio::buffer(out), kTuple);
        conn->write_finished();
        ctx.metrics.bytes_sent.inc(n);
        if (ec) {
          spdlog::debug("h2 {}:{} write failed: {}", ctx.info->remote_address, ctx.info->remote_port, ec.message());
          break;
        }
        continue;
      }
      if (conn->finished()) break;  // GOAWAY exchanged, every stream closed, everything flushed
      co_await conn->write_wake().wait();
    }
  } catch (const std::exception& e) {
    spdlog::error("h2 {}:{} writer failed: {}", ctx.info->remote_address, ctx.info->remote_port, e.what());
  }
  shut(stream, *conn);
}

template <class Stream>
asio::awaitable<void> watch_loop(Stream& stream, std::shared_ptr<Http2Connection> conn) {
  try {
    while (!conn->closed()) {
      bool close_now = false;
      const auto next = conn->check_timeouts(Http2Connection::Clock::now(), close_now);
      if (close_now) {
        shut(stream, *conn);
        break;
      }
      co_await conn->watch_wake().wait_until(next);
    }
  } catch (const std::exception& e) {
    spdlog::error("h2 watchdog failed: {}", e.what());
    shut(stream, *conn);
  }
}

}  // namespace

template <class Stream>
asio::awaitable<void> run_http2_session(Stream& stream, std::string initial, SessionContext& ctx) {
  auto ex = co_await asio::this_coro::executor;
  auto conn = std::make_shared<Http2Connection>(ctx, ex);
  if (!conn->start()) {
    spdlog::error("h2 {}:{}: cannot create the nghttp2 session", ctx.info->remote_address, ctx.info->remote_port);
    close_stream(stream);
    co_return;
  }
  ctx.on_drain = [weak = std::weak_ptr<Http2Connection>(conn)] {
    if (auto c = weak.lock()) c->drain();
  };
  if (ctx.draining) conn->drain();

  conn->spawn(read_loop(stream, conn, std::move(initial)));
  conn->spawn(write_loop(stream, conn));
  conn->spawn(watch_loop(stream, conn));
  // The writer closes everything when it ends; handlers then fail fast and return.
  co_await conn->join();
  ctx.on_drain = nullptr;
  close_stream(stream);
}

template asio::awaitable<void> run_http2_session<asio::ip::tcp::socket>(asio::ip::tcp::socket&, std::string,
                                                                        SessionContext&);
template asio::awaitable<void> run_http2_session<asio::ssl::stream<asio::ip::tcp::socket>>(
    asio::ssl::stream<asio::ip::tcp::socket>&, std::string, SessionContext&);

}  // namespace kvsd::http
