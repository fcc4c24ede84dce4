#include "app/app.hpp"

#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <csignal>
#include <filesystem>
#include <optional>
#include <thread>
#include <vector>

#include "api/control_plane.hpp"
#include "api/ops_routes.hpp"
#include "app/dev_cert.hpp"
#include "app/dev_credentials.hpp"
#include "auth/credentials.hpp"
#include "http/dispatcher.hpp"
#include "net/connection_tracker.hpp"
#include "net/listener.hpp"
#include "net/tls_context.hpp"
#include "obs/http_metrics.hpp"
#include "storage/rocksdb_stream_store.hpp"

namespace kvsd::app {

namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

// Lets the process hold as many sockets as the hard limit allows (1,000+ connections).
void raise_fd_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

}  // namespace

struct App::Impl {
  explicit Impl(Config c)
      : config(std::move(c)),
        ioc(static_cast<int>(config.threads == 0 ? std::max(1u, std::thread::hardware_concurrency()) : config.threads)),
        http_metrics(registry),
        dispatcher(router, http_metrics, config.access_log),
        server{dispatcher, config.limits, http_metrics, tracker} {}

  Config config;
  asio::io_context ioc;
  obs::Registry registry;
  obs::HttpMetrics http_metrics;
  http::Router router;
  http::Dispatcher dispatcher;
  net::ConnectionTracker tracker;
  net::ServerContext server;
  std::optional<asio::ssl::context> tls;
  std::vector<std::unique_ptr<net::Listener>> listeners;
  api::AuthContext auth;
  // Declared before the pool so that the pool (and any work on it) ends first.
  std::unique_ptr<storage::RocksDbStreamStore> streams;
  asio::thread_pool offload_pool{4};  // blocking work (RocksDB) via app::offload
  api::ControlPlaneContext control_plane;

  void setup() {
    raise_fd_limit();
    std::signal(SIGPIPE, SIG_IGN);
    fs::create_directories(config.data_dir);
    setup_auth();
    api::add_ops_routes(router, registry);
    setup_control_plane();

    if (!config.http.empty()) {
      listeners.push_back(std::make_unique<net::Listener>(ioc, net::parse_endpoint(config.http), server, nullptr));
    }
    if (!config.https.empty()) {
      std::string cert = config.tls_cert;
      std::string key = config.tls_key;
      if (cert.empty() != key.empty()) throw std::invalid_argument("tls.cert and tls.key must be given together");
      if (cert.empty()) {
        const auto dir = fs::absolute(fs::path(config.data_dir) / "tls").lexically_normal().string();
        const auto paths = ensure_dev_certificates(dir, config.tls_names);
        cert = paths.server_cert;
        key = paths.server_key;
        spdlog::info("dev CA certificate: {} (give it to the producer SDK as AWS_KVS_CACERT_PATH, to curl as --cacert)",
                     paths.ca_cert);
      }
      tls.emplace(net::make_server_tls_context(cert, key, config.tls_h2));
      listeners.push_back(std::make_unique<net::Listener>(ioc, net::parse_endpoint(config.https), server, &*tls));
    }
    if (listeners.empty()) throw std::invalid_argument("both http and https are disabled: nothing to serve");
  }

  void setup_control_plane() {
    const auto index = (fs::path(config.data_dir) / "index").string();
    storage::StreamStoreOptions options;
    options.region = config.region;
    options.account_id = config.account_id;
    streams = std::make_unique<storage::RocksDbStreamStore>(index, std::move(options));
    control_plane.auth = &auth;
    control_plane.store = streams.get();
    control_plane.pool = &offload_pool;
    control_plane.public_endpoint = config.public_endpoint;
    api::add_control_plane_routes(router, control_plane);
  }

  void setup_auth() {
    if (config.auth == "none") {
      auth.enabled = false;
      spdlog::warn("auth none: requests are NOT authenticated; anyone who can reach the listeners can use the API");
      return;
    }
    if (config.access_key_id.empty() != config.secret_access_key.empty())
      throw std::invalid_argument("credentials.access_key_id and credentials.secret_access_key must be given together");
    auth::Credentials creds{config.access_key_id, config.secret_access_key};
    if (creds.access_key_id.empty()) {
      const auto path = fs::absolute(fs::path(config.data_dir) / "credentials").lexically_normal().string();
      creds = ensure_dev_credentials(path);
      spdlog::info(
          "dev credentials: {}, access key id {}; for clients: export AWS_ACCESS_KEY_ID={} "
          "AWS_SECRET_ACCESS_KEY=$(sed -n 's/^secret_access_key = \"\\(.*\\)\"$/\\1/p' {})",
          path, creds.access_key_id, creds.access_key_id, path);
    } else {
      spdlog::info("sigv4 authentication with configured access key id {}", creds.access_key_id);
    }
    auto store = std::make_shared<auth::StaticCredentialStore>();
    store->add(std::move(creds));
    auth.enabled = true;
    auth.store = std::move(store);
    auth.options.region = config.auth_check_region ? config.region : std::string();
  }

  // Stops accepting, lets exchanges in flight end within the grace period, then closes the rest.
  void shutdown(int signo) {
    spdlog::info("signal {}: shutting down, {} connections open, grace {} ms", signo, tracker.size(),
                 config.shutdown_grace.count());
    for (auto& l : listeners) l->stop();
    tracker.drain_all();
    auto timer = std::make_shared<asio::steady_timer>(ioc);
    const auto deadline = std::chrono::steady_clock::now() + config.shutdown_grace;
    poll_drain(timer, deadline, false);
  }

  void poll_drain(std::shared_ptr<asio::steady_timer> timer, std::chrono::steady_clock::time_point deadline,
                  bool aborted) {
    if (tracker.size() == 0) {
      spdlog::info("all connections closed; stopped");
      ioc.stop();
      return;
    }
    const auto now = std::chrono::steady_clock::now();
    if (!aborted && now >= deadline) {
      spdlog::warn("grace period over: closing {} connections", tracker.size());
      tracker.abort_all();
      aborted = true;
      deadline = now + std::chrono::seconds(2);
    } else if (aborted && now >= deadline) {
      spdlog::warn("{} connections did not close; stopping anyway", tracker.size());
      ioc.stop();
      return;
    }
    timer->expires_after(std::chrono::milliseconds(20));
    timer->async_wait(
        [this, timer, deadline, aborted](boost::system::error_code) { poll_drain(timer, deadline, aborted); });
  }
};

App::App(Config config) : impl_(std::make_unique<Impl>(std::move(config))) { impl_->setup(); }

App::~App() = default;

http::Router& App::router() { return impl_->router; }

const api::AuthContext& App::auth() const { return impl_->auth; }

int App::run() {
  auto& s = *impl_;
  asio::signal_set signals(s.ioc, SIGINT, SIGTERM);
  signals.async_wait([&s](boost::system::error_code ec, int signo) {
    if (!ec) s.shutdown(signo);
  });
  for (auto& l : s.listeners) {
    l->start();
    const auto ep = l->local_endpoint();
    const auto addr = ep.address().is_v6() ? "[" + ep.address().to_string() + "]" : ep.address().to_string();
    spdlog::info("listening {} {}:{}", l->tls() ? "https" : "http", addr, ep.port());
  }
  const unsigned n = s.config.threads == 0 ? std::max(1u, std::thread::hardware_concurrency()) : s.config.threads;
  std::vector<std::jthread> threads;
  for (unsigned i = 1; i < n; ++i) threads.emplace_back([&s] { s.ioc.run(); });
  s.ioc.run();
  for (auto& t : threads) t.join();
  return 0;
}

}  // namespace kvsd::app
