#pragma once
// App: the composition root. Builds every component from the Config, binds the listeners, runs
// the I/O threads and performs the graceful shutdown on SIGTERM/SIGINT.

#include <boost/asio/thread_pool.hpp>
#include <memory>

#include "api/authenticated.hpp"
#include "app/config.hpp"
#include "http/router.hpp"
#include "kvs/fragment_store.hpp"
#include "kvs/stream_store.hpp"

namespace kvsd::app {

class App {
 public:
  // Prepares the data dir, TLS material and listeners (bound at once). Throws on bad config.
  explicit App(Config config);
  ~App();
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  // Routes may be added until run() is called (tests add their own).
  http::Router& router();
  // How API routes are authenticated (register them with api::require_sigv4(app.auth(), ...)).
  const api::AuthContext& auth() const;
  // The stores and the blocking-work pool (for test routes; blocking calls go through offload).
  kvs::StreamStore& streams();
  kvs::FragmentStore& fragments();
  boost::asio::thread_pool& pool();

  // Serves until SIGTERM/SIGINT, then drains and returns the process exit code.
  int run();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kvsd::app
