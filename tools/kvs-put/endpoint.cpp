#include "endpoint.hpp"

#include <openssl/ssl.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/url/parse.hpp>

namespace kvsput {

namespace {
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
}

std::optional<Endpoint> parse_endpoint(std::string_view url, std::string& error) {
  auto u = boost::urls::parse_absolute_uri(url);
  if (!u) {
    error = "not a URL: " + std::string(url);
    return std::nullopt;
  }
  Endpoint ep;
  const std::string scheme = u->scheme();
  if (scheme == "https") {
    ep.tls = true;
  } else if (scheme != "http") {
    error = "URL scheme must be http or https: " + std::string(url);
    return std::nullopt;
  }
  ep.host = u->host_address();
  if (ep.host.empty()) {
    error = "URL has no host: " + std::string(url);
    return std::nullopt;
  }
  ep.port = u->has_port() ? std::string(u->port()) : (ep.tls ? "443" : "80");
  ep.base_path = u->encoded_path();
  while (!ep.base_path.empty() && ep.base_path.back() == '/') ep.base_path.pop_back();
  return ep;
}

std::unique_ptr<asio::ssl::context> make_tls_context(const std::string& ca_file) {
  auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                   asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
  ctx->set_verify_mode(asio::ssl::verify_peer);
  if (ca_file.empty()) {
    ctx->set_default_verify_paths();
  } else {
    ctx->load_verify_file(ca_file);
  }
  static constexpr unsigned char kAlpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  SSL_CTX_set_alpn_protos(ctx->native_handle(), kAlpn, sizeof kAlpn);
  return ctx;
}

asio::awaitable<std::unique_ptr<TcpStream>> connect_tcp(const Endpoint& ep, std::chrono::seconds timeout,
                                                        std::string& error) {
  auto ex = co_await asio::this_coro::executor;
  asio::ip::tcp::resolver resolver(ex);
  auto [rec, results] = co_await resolver.async_resolve(ep.host, ep.port, kTuple);
  if (rec) {
    error = "resolving " + ep.host + ": " + rec.message();
    co_return nullptr;
  }
  auto stream = std::make_unique<TcpStream>(ex);
  stream->expires_after(timeout);
  auto [cec, where] = co_await stream->async_connect(results, kTuple);
  if (cec) {
    error = "connecting to " + ep.host + ":" + ep.port + ": " + cec.message();
    co_return nullptr;
  }
  stream->expires_never();
  stream->socket().set_option(asio::ip::tcp::no_delay(true));
  co_return stream;
}

asio::awaitable<std::unique_ptr<TlsStream>> connect_tls(const Endpoint& ep, asio::ssl::context& ctx,
                                                        std::chrono::seconds timeout, std::string& error) {
  auto tcp = co_await connect_tcp(ep, timeout, error);
  if (!tcp) co_return nullptr;
  auto stream = std::make_unique<TlsStream>(std::move(*tcp), ctx);
  boost::system::error_code addr_ec;
  asio::ip::make_address(ep.host, addr_ec);
  if (addr_ec && !SSL_set_tlsext_host_name(stream->native_handle(), ep.host.c_str())) {
    error = "cannot set TLS SNI";
    co_return nullptr;
  }
  stream->set_verify_callback(asio::ssl::host_name_verification(ep.host));
  beast::get_lowest_layer(*stream).expires_after(timeout);
  auto [ec] = co_await stream->async_handshake(asio::ssl::stream_base::client, kTuple);
  if (ec) {
    error = "TLS handshake with " + ep.host + ":" + ep.port + ": " + ec.message();
    co_return nullptr;
  }
  beast::get_lowest_layer(*stream).expires_never();
  co_return stream;
}

}  // namespace kvsput
