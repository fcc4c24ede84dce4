// kvs-put: an SDK-like KVS producer and PutMedia load generator. Flags -> source (file or test
// pattern, encoded once) -> N producers on an io_context (at most one thread per core) -> progress
// every second and a summary. Exit status 0 only when every fragment of every stream was
// acknowledged (PERSISTED, or RECEIVED with retention 0) and no ERROR ack came.

#include <sys/resource.h>
#include <atomic>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "file_source.hpp"
#include "options.hpp"
#include "pattern_source.hpp"
#include "producer.hpp"
#include "stats.hpp"

extern "C" {
#include <libavutil/log.h>
}

namespace {

using namespace kvsput;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kUserAgent = "AWS-PRODUCER-SDK-KVS/1.6.4 kvs-put/0.1.0 Linux x86_64";

nlohmann::json latency_json(const LatencySummary& s) {
  return {{"count", s.count}, {"p50", s.p50_ms}, {"p99", s.p99_ms}, {"max", s.max_ms}};
}

}  // namespace

int main(int argc, char** argv) {
  std::string error;
  const auto parsed = parse_options(argc, argv, error);
  if (!parsed) {
    if (error != "help") std::cerr << "kvs-put: " << error << "\n";
    std::cerr << usage();
    return error == "help" ? 0 : 2;
  }
  const Options& opt = *parsed;
  av_log_set_level(AV_LOG_ERROR);
  // Thousands of streams need thousands of sockets: lift the soft descriptor limit to the hard one.
  if (rlimit lim{}; getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }

  std::string cp_error;
  const auto control_plane = parse_endpoint(opt.endpoint, cp_error);
  if (!control_plane) {
    std::cerr << "kvs-put: --endpoint: " << cp_error << "\n";
    return 2;
  }

  std::shared_ptr<MediaSource> source = opt.pattern_seconds > 0
                                            ? open_pattern_source(opt.pattern_seconds, opt.audio, error)
                                            : open_file_source(opt.input, error);
  if (!source) {
    std::cerr << "kvs-put: " << error << "\n";
    return 1;
  }
  auto frames = std::make_shared<FrameStore>();

  std::unique_ptr<boost::asio::ssl::context> tls;
  try {
    tls = make_tls_context(opt.ca);
  } catch (const std::exception& e) {
    std::cerr << "kvs-put: --ca " << opt.ca << ": " << e.what() << "\n";
    return 2;
  }
  ClientContext ctx;
  ctx.tls = tls.get();
  ctx.credentials = {opt.access_key, opt.secret_key};
  ctx.session_token = opt.session_token;
  ctx.region = opt.region;
  ctx.user_agent = std::string(kUserAgent);
  if (opt.access_key.empty() && !opt.quiet) std::cerr << "kvs-put: no credentials; requests are not signed\n";

  // The source runs on its own thread; it is detached at exit if the input never ends (stdin).
  std::thread source_thread([source, frames] { source->run(*frames); });
  if (opt.preload) frames->wait_finished();  // measure the server, not the demuxer

  Stats stats;
  const int n = opt.streams;
  std::vector<SessionResult> results(static_cast<std::size_t>(n));
  std::vector<std::string> names(static_cast<std::size_t>(n));
  std::atomic<int> remaining{n};
  std::mutex done_mutex;
  std::condition_variable done_cv;

  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const int threads = static_cast<int>(std::min<unsigned>(static_cast<unsigned>(n), cores));
  boost::asio::io_context ioc(threads);
  const auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    ProducerConfig pc;
    pc.stream_name = n == 1 ? opt.stream : opt.stream + "-" + std::to_string(i);
    names[static_cast<std::size_t>(i)] = pc.stream_name;
    pc.retention_hours = opt.retention_hours;
    pc.start_delay = std::chrono::milliseconds(static_cast<std::int64_t>(opt.stagger_seconds * 1000 * i / n));
    pc.put_media.timecode_type = opt.timecode_type;
    pc.put_media.realtime = opt.realtime;
    pc.put_media.max_rate_bytes_per_second = opt.max_rate_mbps * 1e6;
    pc.put_media.eofr = opt.eofr;
    pc.put_media.ack_timeout = std::chrono::milliseconds(static_cast<std::int64_t>(opt.ack_timeout_seconds * 1000));
    if (i == 0) pc.put_media.dump_path = opt.dump;
    boost::asio::co_spawn(boost::asio::make_strand(ioc),
                          run_producer(ctx, *control_plane, std::move(pc), *frames, source->info(), stats),
                          [&, i](std::exception_ptr e, SessionResult r) {
                            if (e) {
                              try {
                                std::rethrow_exception(e);
                              } catch (const std::exception& ex) {
                                r.ok = false;
                                r.error = std::string("internal error: ") + ex.what();
                              }
                            }
                            results[static_cast<std::size_t>(i)] = std::move(r);
                            if (--remaining == 0) {
                              std::lock_guard lock(done_mutex);
                              done_cv.notify_all();
                            }
                          });
  }

  std::thread progress([&] {
    std::uint64_t last_bytes = 0;
    std::unique_lock lock(done_mutex);
    while (!done_cv.wait_for(lock, std::chrono::seconds(1), [&] { return remaining.load() == 0; })) {
      const std::uint64_t bytes = stats.bytes_sent.load();
      const double p50 = stats.take_recent_received_p50();
      if (!opt.quiet) {
        std::fprintf(stderr,
                     "kvs-put: %5.1f s  fragments sent %llu / RECEIVED %llu / PERSISTED %llu  errors %llu  %.2f Mbit/s"
                     "  ACK p50 %.1f ms\n",
                     std::chrono::duration<double>(Clock::now() - t0).count(),
                     static_cast<unsigned long long>(stats.fragments_sent.load()),
                     static_cast<unsigned long long>(stats.received.load()),
                     static_cast<unsigned long long>(stats.persisted.load()),
                     static_cast<unsigned long long>(stats.errors.load()),
                     static_cast<double>(bytes - last_bytes) * 8 / 1e6, p50);
      }
      last_bytes = bytes;
    }
  });

  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back([&ioc] { ioc.run(); });
  for (auto& t : pool) t.join();
  progress.join();
  const double duration = std::chrono::duration<double>(Clock::now() - t0).count();

  // A finished (or failed) upload does not wait for an input that never ends: a pattern stops at
  // once; a demuxer blocked on stdin is left behind (the process exits).
  frames->cancel();
  if (opt.pattern_seconds > 0 || opt.input != "-") {
    source_thread.join();
  } else {
    source_thread.detach();
  }

  int failed = 0;
  std::uint64_t fragments = 0, received = 0, persisted = 0, errors = 0, bytes = 0;
  nlohmann::json streams = nlohmann::json::array();
  for (int i = 0; i < n; ++i) {
    const auto& r = results[static_cast<std::size_t>(i)];
    fragments += r.fragments;
    received += r.received;
    persisted += r.persisted;
    errors += r.errors;
    bytes += r.body_bytes;
    if (!r.ok) {
      ++failed;
      std::cerr << "kvs-put: " << names[static_cast<std::size_t>(i)] << ": FAILED: " << r.error << "\n";
    }
    streams.push_back({{"stream", names[static_cast<std::size_t>(i)]},
                       {"ok", r.ok},
                       {"error", r.error},
                       {"http_status", r.http_status},
                       {"fragments", r.fragments},
                       {"received", r.received},
                       {"persisted", r.persisted},
                       {"errors", r.errors},
                       {"unmatched_acks", r.unmatched_acks},
                       {"bytes", r.body_bytes}});
  }
  const auto rl = stats.received_latency();
  const auto pl = stats.persisted_latency();
  const auto el = stats.persisted_after_end_latency();
  if (!opt.quiet || failed > 0) {
    std::fprintf(stderr,
                 "kvs-put: %s: %d stream(s), %llu fragments, %llu bytes in %.2f s; RECEIVED %llu, PERSISTED %llu, "
                 "ERROR acks %llu\n"
                 "kvs-put: latency last byte -> RECEIVED p50 %.1f p99 %.1f max %.1f ms; -> PERSISTED p50 %.1f p99 "
                 "%.1f max %.1f ms; end of fragment written -> PERSISTED p50 %.1f p99 %.1f max %.1f ms\n",
                 failed == 0 ? "OK" : "FAILED", n, static_cast<unsigned long long>(fragments),
                 static_cast<unsigned long long>(bytes), duration, static_cast<unsigned long long>(received),
                 static_cast<unsigned long long>(persisted), static_cast<unsigned long long>(errors), rl.p50_ms,
                 rl.p99_ms, rl.max_ms, pl.p50_ms, pl.p99_ms, pl.max_ms, el.p50_ms, el.p99_ms, el.max_ms);
  }
  if (!opt.summary_json.empty()) {
    const nlohmann::json summary = {{"ok", failed == 0},
                                    {"streams_total", n},
                                    {"streams_failed", failed},
                                    {"fragments", fragments},
                                    {"fragments_sent", fragments},
                                    {"fragments_received", received},
                                    {"fragments_persisted", persisted},
                                    {"errors", errors},
                                    {"bytes", bytes},
                                    {"duration_seconds", duration},
                                    {"received_latency_ms", latency_json(rl)},
                                    {"persisted_latency_ms", latency_json(pl)},
                                    {"persisted_after_end_latency_ms", latency_json(el)},
                                    {"streams", streams}};
    std::ofstream out(opt.summary_json, std::ios::trunc);
    out << summary.dump(2) << "\n";
    if (!out) {
      std::cerr << "kvs-put: cannot write " << opt.summary_json << "\n";
      return 1;
    }
  }
  return failed == 0 ? 0 : 1;
}
