#include "net/listener.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <stdexcept>

#include "kvs/decimal.hpp"

namespace kvsd::net {

namespace asio = boost::asio;
using asio::ip::tcp;

tcp::endpoint parse_endpoint(const std::string& text) {
  std::string host;
  std::string port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      throw std::invalid_argument("bad address '" + text + "': expected [v6addr]:port");
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos) throw std::invalid_argument("bad address '" + text + "': expected ADDR:PORT");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (host.empty() || host == "*") host = "0.0.0.0";
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code ec;
  const auto addr = asio::ip::make_address(host, ec);
  if (ec) throw std::invalid_argument("bad address '" + text + "': '" + host + "' is not a numeric IP address");
  const auto p = kvs::parse_decimal<std::uint16_t>(port);
  if (!p) throw std::invalid_argument("bad address '" + text + "': port must be 0-65535");
  return {addr, *p};
}

Listener::Listener(ContextPool& pool, const tcp::endpoint& at, ServerContext& server, asio::ssl::context* tls)
    : pool_(pool), acceptor_(asio::make_strand(pool.main())), server_(server), tls_(tls) {
  boost::system::error_code ec;
  acceptor_.open(at.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(at, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (!ec) bound_ = acceptor_.local_endpoint(ec);
  if (ec) {
    throw std::runtime_error("cannot listen on " + at.address().to_string() + ":" + std::to_string(at.port()) + ": " +
                             ec.message());
  }
}

void Listener::start() { asio::co_spawn(acceptor_.get_executor(), accept_loop(), asio::detached); }

void Listener::stop() {
  asio::post(acceptor_.get_executor(), [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  });
}

asio::awaitable<void> Listener::accept_loop() {
  asio::steady_timer backoff(acceptor_.get_executor());
  while (acceptor_.is_open()) {
    auto [ec, socket] =
        co_await acceptor_.async_accept(asio::make_strand(pool_.next()), asio::as_tuple(asio::use_awaitable));
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) break;
      // Out of descriptors or similar: log, wait briefly, go on accepting.
      spdlog::warn("accept on {}:{} failed: {}", bound_.address().to_string(), bound_.port(), ec.message());
      backoff.expires_after(std::chrono::milliseconds(50));
      co_await backoff.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    auto ex = socket.get_executor();
    asio::co_spawn(ex, serve_connection(std::move(socket), server_, tls_), [](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex2) {
        spdlog::error("connection ended by exception: {}", ex2.what());
      }
    });
  }
}

}  // namespace kvsd::net
