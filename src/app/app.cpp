#include "app/app.hpp"

#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "api/control_plane.hpp"
#include "api/live_feed.hpp"
#include "api/media_read.hpp"
#include "api/ops_routes.hpp"
#include "api/playback.hpp"
#include "api/put_media.hpp"
#include "app/dev_cert.hpp"
#include "app/dev_credentials.hpp"
#include "auth/credentials.hpp"
#include "exec/named_thread_pool.hpp"
#include "http/dispatcher.hpp"
#include "net/connection_tracker.hpp"
#include "net/context_pool.hpp"
#include "net/listener.hpp"
#include "net/tls_context.hpp"
#include "obs/http_metrics.hpp"
#include "obs/metrics.hpp"
#include "storage/database.hpp"
#include "storage/retention_sweeper.hpp"
#include "storage/rocksdb_fragment_store.hpp"
#include "storage/rocksdb_stream_store.hpp"
#include "storage/storage_health.hpp"

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

void log_recovery(const storage::RecoveryReport& r) {
  if (r.clean()) {
    spdlog::info("storage: {} segments checked, index and blobs agree", r.segments_checked);
    return;
  }
  spdlog::warn(
      "storage recovery: {} segments checked; {} torn tails truncated ({} bytes never acknowledged); {} unindexed "
      "and {} orphan segments deleted; {} segments missing; {} index entries without bytes dropped",
      r.segments_checked, r.torn_tails_truncated, r.torn_bytes_truncated, r.unindexed_segments_deleted,
      r.orphan_segments_deleted, r.missing_segments, r.fragments_dropped);
  if (r.index_fixes_deferred > 0)
    spdlog::warn(
        "storage recovery: {} index updates deferred (the index is read-only): they are made when writes "
        "resume; until then those fragments fail to read",
        r.index_fixes_deferred);
}

// While degraded, the state is logged again at most this often.
constexpr auto kDegradedLogInterval = std::chrono::seconds(60);

std::int64_t epoch_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

struct App::Impl {
  explicit Impl(Config c)
      : config(std::move(c)),
        io(config.threads == 0 ? std::max(1u, std::thread::hardware_concurrency()) : config.threads),
        http_metrics(registry),
        dispatcher(router, http_metrics, config.access_log),
        server{dispatcher, config.limits, http_metrics, tracker} {}

  Config config;
  net::ContextPool io;               // the I/O threads, one io_context each
  asio::io_context& ioc{io.main()};  // listeners, signals, timers
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
  std::shared_ptr<storage::Database> database;
  std::unique_ptr<storage::RocksDbStreamStore> streams;
  std::unique_ptr<storage::RocksDbFragmentStore> fragments;
  std::unique_ptr<storage::RetentionSweeper> sweeper;
  std::unique_ptr<storage::StorageHealth> health;
  exec::NamedThreadPool offload{4, "kvsd-pool"};     // blocking work (RocksDB) via exec::offload
  asio::thread_pool& offload_pool = offload.pool();  // its pool
  api::ControlPlaneContext control_plane;
  std::unique_ptr<api::PutMediaMetrics> put_media_metrics;
  api::PutMediaContext put_media;
  api::LiveFeed live_feed;
  api::MediaReadContext media_read;
  std::unique_ptr<api::SessionSigner> session_signer;
  api::PlaybackWindows playback_windows;
  api::PlaybackContext playback;
  std::optional<asio::steady_timer> sweep_timer;
  std::optional<asio::steady_timer> disk_timer;
  // Degraded mode on /metrics: kvsd_storage_degraded{reason} (1 while writes are refused for that
  // reason) and kvsd_storage_free_bytes. Set by the disk check (offload pool).
  obs::Gauge* degraded_disk_full = nullptr;
  obs::Gauge* degraded_io_error = nullptr;
  obs::Gauge* free_bytes = nullptr;
  bool degraded_logged = false;  // the disk check's: the current degraded spell was announced
  std::chrono::steady_clock::time_point degraded_logged_at;

  void setup() {
    raise_fd_limit();
    std::signal(SIGPIPE, SIG_IGN);
    fs::create_directories(config.data_dir);
    setup_auth();
    api::add_ops_routes(router, registry, config.metrics_token);
    setup_control_plane();
    setup_ingest();

    if (!config.http.empty()) {
      listeners.push_back(std::make_unique<net::Listener>(io, net::parse_endpoint(config.http), server, nullptr));
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
      listeners.push_back(std::make_unique<net::Listener>(io, net::parse_endpoint(config.https), server, &*tls));
    }
    if (listeners.empty()) throw std::invalid_argument("both http and https are disabled: nothing to serve");
  }

  void setup_control_plane() {
    const auto index = (fs::path(config.data_dir) / "index").string();
    storage::DatabaseOptions db_options;
    db_options.reserve_bytes = config.storage_index_reserve_bytes;
    database = storage::Database::open(index, std::move(db_options));
    storage::StreamStoreOptions options;
    options.region = config.region;
    options.account_id = config.account_id;
    streams = std::make_unique<storage::RocksDbStreamStore>(database, std::move(options));
    control_plane.auth = &auth;
    control_plane.store = streams.get();
    control_plane.pool = &offload_pool;
    control_plane.public_endpoint = config.public_endpoint;
    api::add_control_plane_routes(router, control_plane);
  }

  // Metrics of the fragment store's sync stage: where the time between RECEIVED and PERSISTED
  // goes (the disk's flushes, the index write) and how many fragments share a round.
  std::function<void(const storage::SyncRoundStats&)> sync_round_metrics() {
    static const std::vector<double> kSeconds{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
    auto& rounds =
        registry.counter("kvsd_store_sync_rounds_total", "Rounds of the sync stage (group commits)").with({});
    auto& files =
        registry.counter("kvsd_store_segment_syncs_total", "Segment files fdatasynced by the sync stage").with({});
    auto& segment_seconds =
        registry.histogram("kvsd_store_segment_sync_seconds", "Per round: the segment files' fdatasyncs", kSeconds)
            .with({});
    auto& index_seconds =
        registry.histogram("kvsd_store_index_sync_seconds", "Per round: the synced index write", kSeconds).with({});
    auto& per_round =
        registry
            .histogram("kvsd_store_sync_round_fragments", "Per round with fragments: how many it answered together",
                       {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000})
            .with({});
    return [&](const storage::SyncRoundStats& s) {
      rounds.inc();
      files.inc(s.files);
      segment_seconds.observe(s.segment_seconds);
      if (s.index_seconds > 0) index_seconds.observe(s.index_seconds);
      if (s.fragments > 0) per_round.observe(static_cast<double>(s.fragments));
    };
  }

  // The fragment store (recovery runs here, before any listener accepts) and PutMedia.
  void setup_ingest() {
    storage::FragmentStoreOptions options;
    options.blobs_dir = fs::path(config.data_dir) / "blobs";
    options.segment_max_bytes = config.storage_segment_max_bytes;
    options.segment_max_age_ms = config.storage_segment_max_age_seconds * 1000;
    // Fragments never take the index's reserve: below it every write is refused.
    options.min_free_bytes = std::max(config.storage_min_free_bytes, config.storage_index_reserve_bytes);
    options.direct_io = config.storage_direct_io;
    options.on_sync_round = sync_round_metrics();
    fragments = std::make_unique<storage::RocksDbFragmentStore>(database, std::move(options));
    log_recovery(fragments->recovery_report());

    put_media_metrics = std::make_unique<api::PutMediaMetrics>(registry);
    put_media.auth = &auth;
    put_media.streams = streams.get();
    put_media.fragments = fragments.get();
    put_media.pool = &offload_pool;
    put_media.limits = config.ingest;
    put_media.idle_ack_interval = std::chrono::milliseconds(config.ingest_idle_ack_ms);
    put_media.stage_part_bytes = static_cast<std::size_t>(config.ingest_stage_part_bytes);
    put_media.metrics = put_media_metrics.get();
    put_media.live = &live_feed;
    put_media.now_ms = epoch_ms;
    api::add_put_media_routes(router, put_media);

    media_read.auth = &auth;
    media_read.streams = streams.get();
    media_read.fragments = fragments.get();
    media_read.pool = &offload_pool;
    media_read.live = &live_feed;
    media_read.limits = config.media_read;
    media_read.now_ms = epoch_ms;
    api::add_media_read_routes(router, media_read);

    session_signer = std::make_unique<api::SessionSigner>((fs::path(config.data_dir) / "session.key").string());
    playback.read = &media_read;
    playback.signer = session_signer.get();
    playback.windows = &playback_windows;
    playback.public_endpoint = config.public_endpoint;
    api::add_playback_routes(router, playback);

    sweeper = std::make_unique<storage::RetentionSweeper>(database, *fragments, *streams);
    sweep_timer.emplace(ioc);
    schedule_sweep();
    setup_disk_check();
  }

  // Degraded mode (docs/storage.md, "Disk full"): metrics, the start's verdict, and the
  // periodic check that ends it.
  void setup_disk_check() {
    auto& degraded = registry.gauge("kvsd_storage_degraded",
                                    "1 while every write is refused (degraded mode), by reason", {"reason"});
    degraded_disk_full = &degraded.with({storage::degraded_reason_name(storage::DegradedReason::disk_full)});
    degraded_io_error = &degraded.with({storage::degraded_reason_name(storage::DegradedReason::io_error)});
    free_bytes = &registry.gauge("kvsd_storage_free_bytes", "Free bytes of the index's file system").with({});
    health = std::make_unique<storage::StorageHealth>(database, *fragments);
    report_disk(health->check());
    disk_timer.emplace(ioc);
    schedule_disk_check();
  }

  void schedule_disk_check() {
    disk_timer->expires_after(std::chrono::seconds(std::max<std::int64_t>(1, config.storage_disk_check_seconds)));
    disk_timer->async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      asio::post(offload_pool, [this] {
        report_disk(health->check());
        asio::post(ioc, [this] { schedule_disk_check(); });
      });
    });
  }

  // Metrics and log lines of one disk check (serialised: setup, then the timer's chain).
  void report_disk(const storage::HealthReport& r) {
    free_bytes->set(static_cast<std::int64_t>(r.free_bytes));
    const auto reason = r.refusal ? r.refusal->reason : storage::DegradedReason::disk_full;
    degraded_disk_full->set(!r.writable && reason == storage::DegradedReason::disk_full ? 1 : 0);
    degraded_io_error->set(!r.writable && reason == storage::DegradedReason::io_error ? 1 : 0);
    if (r.resumed) {
      spdlog::info("storage: writes resumed: {} bytes free (needed {}); the index is read-write again", r.free_bytes,
                   r.needed_bytes);
      if (r.recovery) log_recovery(*r.recovery);
      degraded_logged = false;
      return;
    }
    if (r.writable) return;
    const auto now = std::chrono::steady_clock::now();
    const std::string why = storage::degraded_reason_name(reason);
    const std::string detail = r.refusal && !r.refusal->detail.empty() ? " (" + r.refusal->detail + ")" : "";
    const std::string attempt = r.error.empty() ? "" : "; the last attempt to resume failed: " + r.error;
    if (!degraded_logged) {
      spdlog::error(
          "storage DEGRADED ({}): {} bytes free on the data dir's disk, writes need {} (storage.index_reserve_bytes "
          "{} plus the index's logs); the index is {} and every write is refused (PutMedia ERROR 5001, "
          "control-plane writes ServiceUnavailableException), reads are served. Writes resume by themselves once "
          "enough space is free (checked every {} s){}{}",
          why, r.free_bytes, r.needed_bytes, config.storage_index_reserve_bytes,
          database->read_only() ? "open read-only" : "read-write", config.storage_disk_check_seconds, detail, attempt);
      degraded_logged = true;
      degraded_logged_at = now;
    } else if (now - degraded_logged_at >= kDegradedLogInterval) {
      spdlog::warn("storage still DEGRADED ({}): {} bytes free, writes need {}; every write is refused{}", why,
                   r.free_bytes, r.needed_bytes, attempt);
      degraded_logged_at = now;
    }
  }

  // Every storage.retention_sweep_seconds: delete data past retention and data of deleted
  // streams, on the offload pool.
  void schedule_sweep() {
    sweep_timer->expires_after(std::chrono::seconds(std::max<std::int64_t>(1, config.storage_retention_sweep_seconds)));
    sweep_timer->async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      asio::post(offload_pool, [this] {
        const auto now =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
                .count();
        auto r = sweeper->run_once(now);
        if (!r) {
          spdlog::error("retention sweep failed: {}", r.error().message);
        } else if (r->segments_deleted > 0 || r->streams_purged > 0) {
          spdlog::info("retention sweep: {} segments ({} fragments, {} bytes) deleted, {} deleted streams purged",
                       r->segments_deleted, r->fragments_deleted, r->bytes_freed, r->streams_purged);
        }
        asio::post(ioc, [this] { schedule_sweep(); });
      });
    });
  }

  void setup_auth() {
    auth.max_json_body = config.limits.json_body_bytes;
    auth.json_body_timeout = config.limits.body_timeout;
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
    if (sweep_timer) sweep_timer->cancel();
    if (disk_timer) disk_timer->cancel();
    tracker.drain_all();
    auto timer = std::make_shared<asio::steady_timer>(ioc);
    const auto deadline = std::chrono::steady_clock::now() + config.shutdown_grace;
    poll_drain(timer, deadline, false);
  }

  void poll_drain(std::shared_ptr<asio::steady_timer> timer, std::chrono::steady_clock::time_point deadline,
                  bool aborted) {
    if (tracker.size() == 0) {
      spdlog::info("all connections closed; stopped");
      io.stop();
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
      io.stop();
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

kvs::StreamStore& App::streams() { return *impl_->streams; }

kvs::FragmentStore& App::fragments() { return *impl_->fragments; }

asio::thread_pool& App::pool() { return impl_->offload_pool; }

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
  s.io.run();
  return 0;
}

}  // namespace kvsd::app
