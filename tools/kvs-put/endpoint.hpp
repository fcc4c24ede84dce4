#pragma once
// Where kvs-put connects and how: URL parsing, TCP/TLS connection setup, and the per-run client
// settings (credentials, region, TLS context) shared by the control-plane calls and PutMedia.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "auth/credentials.hpp"

namespace kvsput {

namespace asio = boost::asio;
namespace beast = boost::beast;

using TcpStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

struct Endpoint {
  bool tls = false;
  std::string host;       // without brackets or port; what the SDK signs and sends as Host
  std::string port;       // explicit or the scheme default
  std::string base_path;  // path prefix before the API path, without a trailing '/'
};

// http(s)://host[:port][/prefix]; nullopt with error on anything else.
std::optional<Endpoint> parse_endpoint(std::string_view url, std::string& error);

struct ClientContext {
  asio::ssl::context* tls = nullptr;    // required for https endpoints; verifies the peer
  kvsd::auth::Credentials credentials;  // empty access key: requests go unsigned
  std::string session_token;
  std::string region;
  std::string user_agent;
};

// The TLS client context: peer verification against ca_file (PEM) or the system store, ALPN
// http/1.1 only (the SDK's signed hop-by-hop headers do not survive HTTP/2). Throws on a bad file.
std::unique_ptr<asio::ssl::context> make_tls_context(const std::string& ca_file);

// Connects (and for TLS: SNI, host name verification, handshake) within `timeout`. On failure
// returns null and sets error. The stream has no expiry set when returned.
asio::awaitable<std::unique_ptr<TcpStream>> connect_tcp(const Endpoint& ep, std::chrono::seconds timeout,
                                                        std::string& error);
asio::awaitable<std::unique_ptr<TlsStream>> connect_tls(const Endpoint& ep, asio::ssl::context& ctx,
                                                        std::chrono::seconds timeout, std::string& error);

}  // namespace kvsput
