#pragma once
// Serving one accepted socket: TLS handshake and ALPN, or the HTTP/2 preface sniff on
// cleartext, then the HTTP/1.1 or HTTP/2 session.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include "http/dispatcher.hpp"
#include "http/limits.hpp"
#include "net/connection_tracker.hpp"
#include "obs/http_metrics.hpp"

namespace kvsd::net {

// Shared by every connection of a server; outlives them all.
struct ServerContext {
  http::Dispatcher& dispatcher;
  const http::Limits& limits;
  obs::HttpMetrics& metrics;
  ConnectionTracker& tracker;
};

// Runs on the socket's strand executor until the connection ends. `tls` is null for cleartext.
boost::asio::awaitable<void> serve_connection(boost::asio::ip::tcp::socket socket, ServerContext& server,
                                              boost::asio::ssl::context* tls);

}  // namespace kvsd::net
