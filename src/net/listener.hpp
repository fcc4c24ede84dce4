#pragma once
// Listener: one bound TCP acceptor (cleartext or TLS), on the pool's main context, whose accepted
// sockets each get a strand on the pool's next context and a serve_connection coroutine.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <string>

#include "net/connection.hpp"
#include "net/context_pool.hpp"

namespace kvsd::net {

// Parses "ADDR:PORT" or "[v6]:PORT". Throws std::invalid_argument with the offending text.
boost::asio::ip::tcp::endpoint parse_endpoint(const std::string& text);

class Listener {
 public:
  // Binds at once (port 0 picks a free port); throws std::system_error when binding fails.
  Listener(ContextPool& pool, const boost::asio::ip::tcp::endpoint& at, ServerContext& server,
           boost::asio::ssl::context* tls);

  void start();  // begins accepting
  void stop();   // closes the acceptor; thread-safe (posted to the acceptor's strand)
  [[nodiscard]] boost::asio::ip::tcp::endpoint local_endpoint() const { return bound_; }
  [[nodiscard]] bool tls() const noexcept { return tls_ != nullptr; }

 private:
  boost::asio::awaitable<void> accept_loop();

  ContextPool& pool_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::ip::tcp::endpoint bound_;
  ServerContext& server_;
  boost::asio::ssl::context* tls_;
};

}  // namespace kvsd::net
