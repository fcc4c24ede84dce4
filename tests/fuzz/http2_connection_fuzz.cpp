// libFuzzer target for Http2Connection, the whole sans-I/O HTTP/2 server side: nghttp2 behind its
// owning type, the callbacks, the stream table, flow control, body sources, response writers,
// the Dispatcher and Router, and handler coroutines on an io_context. Only the socket loops of
// run_http2_session (read, write, watchdog: src/http/http2_session.cpp) are replaced, by this
// harness: it feeds the client bytes with on_receive, runs ready handlers (io_context::poll) and
// drains collect_output, the way the session's read and write loops do.
//
// The connection preface is always sent first, so the fuzzer starts past it. Input: 2 control
// bytes, then the client's frames.
//   c0: 0 -> the frames arrive in one piece, else in pieces of c0 bytes;
//   c1: bit 0 -> send an empty client SETTINGS frame after the preface;
//       bit 1 -> graceful drain() halfway through the input;
//       bit 2 -> apply every timeout (check_timeouts an hour later) at the end;
//       bit 3 -> small limits (2 streams, 256 header bytes, 8 fields, small windows);
//       bit 4 -> run handlers only after all input arrived (else after every piece).
// Routes: POST /echo (reads the whole body, answers it), GET /stream (three DATA writes, each
// its own write), PUT /early (answers 204 without reading the body); anything else is the
// Dispatcher's 404/405.
// Oracle: no crash or leak; the output is a sequence of whole HTTP/2 frames starting with the
// server SETTINGS, stream frames only on client (odd) streams, DATA no larger than 16 KiB; the
// output is at most 64 KiB + 64 bytes per input byte; at most 2 x MAX_CONCURRENT_STREAMS
// handlers run at once; after close() every handler returns and join() completes.

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.hpp"
#include "http/dispatcher.hpp"
#include "http/http2_connection.hpp"
#include "http/router.hpp"
#include "obs/http_metrics.hpp"
#include "obs/metrics.hpp"

namespace {

namespace asio = boost::asio;
using kvsd::fuzz::check;
using kvsd::http::Headers;
using kvsd::http::Request;
using kvsd::http::ResponseWriter;

constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
constexpr std::string_view kEmptySettings{"\0\0\0\x04\0\0\0\0\0", 9};
constexpr std::size_t kWriteBatch = 64 * 1024;  // as run_http2_session's writer
constexpr std::size_t kOutputSlack = 64 * 1024;
constexpr std::size_t kOutputPerInputByte = 64;

// Handlers running now, and the most that ever ran at once (this input).
int g_live = 0;
int g_peak = 0;

struct Live {
  Live() { g_peak = std::max(g_peak, ++g_live); }
  ~Live() { --g_live; }
  Live(const Live&) = delete;
  Live& operator=(const Live&) = delete;
};

asio::awaitable<void> echo(Request& req, ResponseWriter& w) {
  Live live;
  std::string body;
  std::vector<std::byte> buf(4096);
  for (;;) {
    const auto r = co_await req.body->read_some(buf);
    if (r.ec) co_return;
    if (r.bytes == 0) break;
    body.append(reinterpret_cast<const char*>(buf.data()), r.bytes);
    if (body.size() > 64 * 1024) {
      co_await w.send(413, Headers{}, std::string());
      co_return;
    }
  }
  Headers headers{{"content-type", "application/octet-stream"}};  // named: g++ 12 fails on braced temporaries
  co_await w.send(200, std::move(headers), std::move(body));
}

asio::awaitable<void> stream(Request&, ResponseWriter& w) {
  Live live;
  w.deliver_writes_separately();
  Headers headers{{"content-type", "text/plain"}};
  if (co_await w.start(200, std::move(headers))) co_return;
  for (int i = 0; i < 3; ++i) {
    if (co_await w.write(std::string(100, static_cast<char>('a' + i)))) co_return;
  }
  co_await w.finish();
}

asio::awaitable<void> early(Request&, ResponseWriter& w) {
  Live live;
  co_await w.send(204, Headers{}, std::string());
}

struct Fixture {
  kvsd::obs::Registry registry;
  kvsd::obs::HttpMetrics metrics{registry};
  kvsd::http::Router router;
  kvsd::http::Dispatcher dispatcher{router, metrics, false};
  std::shared_ptr<const kvsd::http::ConnectionInfo> info = [] {
    auto i = std::make_shared<kvsd::http::ConnectionInfo>();
    i->local_address = i->remote_address = "127.0.0.1";
    i->local_port = 8080;
    i->remote_port = 40000;
    return i;
  }();

  Fixture() {
    spdlog::set_level(spdlog::level::off);
    router.add("POST", "/echo", "echo", echo);
    router.add("GET", "/stream", "stream", stream);
    router.add("PUT", "/early", "early", early);
  }
};

// Sets `done` once conn.join() completes. (A named function: g++ 12 miscompiles a coroutine
// lambda inside the extern "C" entry point.)
asio::awaitable<void> join_then_set(std::shared_ptr<kvsd::http::Http2Connection> conn, bool& done) {
  co_await conn->join();
  done = true;
}

// Checks the server's output as a frame sequence. With KVSD_FUZZ_TRACE set, prints each frame.
void check_frames(std::string_view out) {
  static const bool trace = std::getenv("KVSD_FUZZ_TRACE") != nullptr;
  std::size_t pos = 0;
  bool first = true;
  while (pos < out.size()) {
    check(out.size() - pos >= 9, "the output ends on a frame boundary (header)");
    const auto* p = reinterpret_cast<const std::uint8_t*>(out.data() + pos);
    const std::size_t length = std::size_t{p[0]} << 16 | std::size_t{p[1]} << 8 | p[2];
    const std::uint8_t type = p[3];
    const std::uint8_t flags = p[4];
    const std::uint32_t stream_id =
        (std::uint32_t{p[5]} << 24 | std::uint32_t{p[6]} << 16 | std::uint32_t{p[7]} << 8 | p[8]) & 0x7fffffffu;
    check(out.size() - pos - 9 >= length, "the output ends on a frame boundary (payload)");
    if (first) check(type == 0x4 && stream_id == 0 && (flags & 0x1) == 0, "the server starts with its SETTINGS");
    first = false;
    if (trace)
      std::fprintf(stderr, "frame type %u flags 0x%02x stream %u length %zu\n", type, flags, stream_id, length);
    switch (type) {
      case 0x0:  // DATA
        check(length <= 16384, "DATA fits the default frame size");
        [[fallthrough]];
      case 0x1:  // HEADERS
      case 0x3:  // RST_STREAM
        check(stream_id % 2 == 1, "stream frames go to client-initiated streams");
        break;
      case 0x4:  // SETTINGS
      case 0x6:  // PING
      case 0x7:  // GOAWAY
        check(stream_id == 0, "connection frames are on stream 0");
        break;
      case 0x8:  // WINDOW_UPDATE
        check(stream_id == 0 || stream_id % 2 == 1, "WINDOW_UPDATE on the connection or a client stream");
        break;
      default:
        check(false, "the server sends no PRIORITY, PUSH_PROMISE, bare CONTINUATION or unknown frames");
    }
    pos += 9 + length;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Fixture fx;
  kvsd::fuzz::InputReader in({data, size});
  const std::uint8_t c0 = in.byte();
  const std::uint8_t c1 = in.byte();
  const std::string_view frames = in.rest();

  kvsd::http::Limits limits;
  if (c1 & 8) {
    limits.h2_max_concurrent_streams = 2;
    limits.header_bytes = 256;
    limits.header_count = 8;
    limits.h2_stream_window = 1024;
    limits.h2_connection_window = 4096;
  }
  g_live = 0;
  g_peak = 0;

  std::string wire(kPreface);
  if (c1 & 1) wire += kEmptySettings;
  wire += frames;
  const std::size_t preface_bytes = wire.size() - frames.size();

  asio::io_context ioc;
  kvsd::http::SessionContext ctx{fx.dispatcher, limits, fx.metrics, fx.info, false, {}};
  auto conn = std::make_shared<kvsd::http::Http2Connection>(ctx, ioc.get_executor());
  check(conn->start(), "the nghttp2 session starts");

  // Runs the handlers that are ready (an io_context that ran out of work must be restarted).
  const auto poll = [&ioc] {
    ioc.restart();
    return ioc.poll();
  };
  std::string out;
  bool open = true;
  const auto flush = [&] {
    for (int round = 0; open && round < 1000; ++round) {
      poll();
      std::string batch;
      if (!conn->collect_output(batch, kWriteBatch)) {
        conn->close();
        open = false;
        break;
      }
      if (batch.empty() && poll() == 0) break;
      out += batch;
      check(out.size() <= kOutputSlack + kOutputPerInputByte * size, "the output is bounded by the input");
    }
    check(g_peak <= static_cast<int>(2 * limits.h2_max_concurrent_streams), "handlers are bounded");
  };

  const std::size_t piece = c0 == 0 ? wire.size() : c0;
  bool drained = false;
  for (std::size_t pos = 0; open && pos < wire.size();) {
    // The preface and the optional SETTINGS always arrive whole, ahead of the fuzzed frames.
    const std::size_t n =
        pos == 0 ? std::max(preface_bytes, std::min(piece, wire.size())) : std::min(piece, wire.size() - pos);
    if (!conn->on_receive(reinterpret_cast<const std::uint8_t*>(wire.data() + pos), n)) {
      conn->close();
      open = false;
      break;
    }
    pos += n;
    if ((c1 & 2) && !drained && pos >= preface_bytes + frames.size() / 2) {
      conn->drain();
      drained = true;
    }
    if ((c1 & 16) == 0) flush();
  }
  flush();
  if (open && (c1 & 4)) {
    bool close_now = false;
    conn->check_timeouts(kvsd::http::Http2Connection::Clock::now() + std::chrono::hours(1), close_now);
    if (close_now) {
      conn->close();
      open = false;
    }
    flush();
  }
  if (open && conn->finished()) check(!conn->want_read(), "a finished connection reads no more");
  check_frames(out);

  // The transport goes away: every handler must return and join() complete.
  conn->close();
  bool joined = false;
  asio::co_spawn(ioc, join_then_set(conn, joined), asio::detached);
  for (int round = 0; round < 100 && !joined; ++round) poll();
  check(joined, "join() completes once the connection is closed");
  check(g_live == 0, "every handler returns after close()");
  std::string after;
  check(!conn->collect_output(after, kWriteBatch) && after.empty(), "a closed connection writes nothing");
  conn.reset();
  poll();
  return 0;
}
