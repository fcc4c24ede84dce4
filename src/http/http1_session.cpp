#include "http/http1_session.hpp"

#include <sys/sendfile.h>

#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>
#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <type_traits>

#include "exec/async_event.hpp"
#include "http/aws_error.hpp"
#include "http/chunked_decoder.hpp"
#include "http/dispatcher.hpp"
#include "http/http1_activity.hpp"
#include "http/http1_framing.hpp"
#include "obs/http_metrics.hpp"

namespace kvsd::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
// The most of an unread request body read and dropped to keep the connection for another request.
constexpr std::uint64_t kDrainLimit = 64 * 1024;

namespace {

using h1::Activity;
using h1::Watchdog;

template <class Stream>
void close_stream(Stream& stream) {
  error_code ignored;
  auto& sock = beast::get_lowest_layer(stream);
  sock.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  sock.close(ignored);
}

// Up to three buffers written as one gather write. (A named type: g++ 12 cannot keep an
// initializer_list's array alive across a co_await.)
struct Buffers {
  std::array<asio::const_buffer, 3> b{};
  std::size_t n = 0;
  Buffers(asio::const_buffer a) : b{a}, n(1) {}  // NOLINT(google-explicit-constructor)
  Buffers(asio::const_buffer a, asio::const_buffer c) : b{a, c}, n(2) {}
  Buffers(asio::const_buffer a, asio::const_buffer c, asio::const_buffer d) : b{a, c, d}, n(3) {}
  [[nodiscard]] std::span<const asio::const_buffer> seq() const { return {b.data(), n}; }
};

// Writes to the socket with the write-stall bookkeeping. Writes of one connection are never
// concurrent: the 100-continue interim and the response are ordered by the session.
template <class Stream>
asio::awaitable<error_code> write_all(Stream& stream, Activity& act, SessionContext& ctx, Buffers bufs) {
  act.write_pending = true;
  act.last_write_progress = Clock::now();
  auto [ec, n] = co_await asio::async_write(stream, bufs.seq(), kTuple);
  act.write_pending = false;
  ctx.metrics.bytes_sent.inc(n);
  co_return ec;
}

template <class Stream>
class Http1BodySource final : public BodySource {
 public:
  Http1BodySource(Stream& s, beast::flat_buffer& b, bhttp::request_parser<bhttp::buffer_body>& p, Activity& a,
                  SessionContext& ctx)
      : stream_(s), buffer_(b), parser_(p), act_(a), ctx_(ctx), chunked_(p.chunked()) {
    act_.reset_body(ctx.limits);
  }

  asio::awaitable<BodyRead> read_some(std::span<std::byte> buf) override {
    if (failed_) co_return BodyRead{0, failed_};
    if (chunked_) co_return co_await read_chunked(buf);
    while (!parser_.is_done()) {
      auto& body = parser_.get().body();
      body.data = buf.data();
      body.size = buf.size();
      body.more = true;
      act_.body_read_begins();
      auto [ec, n] = co_await bhttp::async_read_some(stream_, buffer_, parser_, cancellable());
      const std::size_t got = buf.size() - parser_.get().body().size;
      if (auto ended = read_ended(n)) co_return BodyRead{0, ended};
      if (ec == bhttp::error::need_buffer) ec = {};
      if (ec) co_return BodyRead{0, fail(ec)};
      if (got > 0) co_return BodyRead{got, {}};
    }
    co_return BodyRead{0, {}};
  }

  void set_deadline(Clock::time_point deadline) override { act_.body_deadline = deadline; }

  [[nodiscard]] std::optional<std::uint64_t> declared_length() const override {
    if (chunked_) return std::nullopt;
    const auto n = parser_.content_length();
    return n ? std::optional<std::uint64_t>(*n) : std::optional<std::uint64_t>(0);
  }

  // The body has been read to its end, so the connection is positioned at the next request.
  [[nodiscard]] bool complete() const { return chunked_ ? chunks_.done() : parser_.is_done(); }

  // Whether the connection must close after the response: what is left of the body is more
  // than drain_body() reads, or it failed. (A chunked body's rest is unknown: it is tried.)
  [[nodiscard]] bool undrainable() const {
    if (complete()) return false;
    if (failed_) return true;
    if (chunked_) return false;
    const auto left = parser_.content_length_remaining();
    return left && *left > kDrainLimit;
  }

 private:
  error_code fail(error_code ec) {
    failed_ = ec == bhttp::error::end_of_stream || ec == asio::error::eof ? asio::error::connection_reset : ec;
    return failed_;
  }

  // After each socket read: counts the bytes, and fails the body (timed_out) when the watchdog
  // cancelled the read or the bytes came too slowly (Activity::body_read_ends).
  // The completion token of body reads: the watchdog can cancel them alone (Activity::body_cancel).
  auto cancellable() { return asio::bind_cancellation_slot(act_.body_cancel.slot(), kTuple); }

  // Framing bytes count as arrivals too: the rule is about how fast the client sends.
  error_code read_ended(std::size_t socket_bytes) {
    ctx_.metrics.bytes_received.inc(socket_bytes);
    if (const char* why = act_.body_read_ends(socket_bytes)) {
      spdlog::debug("http1 {}:{} body failed: {} timeout", ctx_.info->remote_address, ctx_.info->remote_port, why);
      failed_ = asio::error::timed_out;
      return failed_;
    }
    return {};
  }

  // Chunked bodies bypass Beast's body parser: buffered bytes go through the decoder, and the
  // socket is read straight into the caller's buffer, as much as it takes at once (Beast reads
  // at most 64 KiB into its own buffer and copies from there). Two ways:
  // - small chunks (a camera sends one per frame, of a few KiB): the socket is read into the
  //   whole buffer, framing and all, and the framing is cut out in place (gather_chunks). One
  //   read takes every chunk that has arrived, where reading each chunk's size line and data
  //   apart took about three reads per chunk.
  // - large chunks: inside a chunk, reads go straight into the caller's buffer and stop at the
  //   chunk's end; the framing between chunks is read into the connection's buffer. No body
  //   byte is moved.
  asio::awaitable<BodyRead> read_chunked(std::span<std::byte> buf) {
    static constexpr std::size_t kFramingRead = 4096;
    while (!chunks_.done()) {
      if (chunks_.failed()) co_return BodyRead{0, fail(bhttp::error::bad_chunk)};
      if (buffer_.size() > 0) {
        const auto in = buffer_.data();
        const auto step = chunks_.feed(std::span(static_cast<const std::uint8_t*>(in.data()), in.size()), buf.size());
        if (!step.data.empty()) std::memcpy(buf.data(), step.data.data(), step.data.size());
        buffer_.consume(step.consumed);
        if (!step.data.empty()) co_return BodyRead{step.data.size(), {}};
        if (step.consumed > 0) continue;
      }
      act_.body_read_begins();
      const bool small_chunks = chunks_.chunk_size() <= kGatherChunkBytes && buf.size() >= kFramingRead;
      if (small_chunks && (!chunks_.in_data() || chunks_.data_remaining() < buf.size())) {
        auto [ec, n] = co_await stream_.async_read_some(asio::buffer(buf.data(), buf.size()), cancellable());
        if (auto ended = read_ended(n)) co_return BodyRead{0, ended};
        if (ec) co_return BodyRead{0, fail(ec)};
        const std::size_t data = gather_chunks(std::span(reinterpret_cast<std::uint8_t*>(buf.data()), n));
        if (data > 0) co_return BodyRead{data, {}};
        continue;
      }
      if (chunks_.in_data()) {
        const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), chunks_.data_remaining()));
        auto [ec, n] = co_await stream_.async_read_some(asio::buffer(buf.data(), want), cancellable());
        if (auto ended = read_ended(n)) co_return BodyRead{0, ended};
        if (ec) co_return BodyRead{0, fail(ec)};
        chunks_.data_read(n);
        co_return BodyRead{n, {}};
      }
      auto [ec, n] = co_await stream_.async_read_some(buffer_.prepare(kFramingRead), cancellable());
      if (auto ended = read_ended(n)) co_return BodyRead{0, ended};
      if (ec) co_return BodyRead{0, fail(ec)};
      buffer_.commit(n);
    }
    co_return BodyRead{0, {}};
  }

  // Decodes `in` (bytes just read into the caller's buffer) and moves the body bytes in it to
  // its front, over the framing: returns how many there are. Bytes past the end of the body (a
  // pipelined request) go to the connection's buffer. Each byte moves at most once.
  std::size_t gather_chunks(std::span<std::uint8_t> in) {
    std::size_t pos = 0;
    std::size_t out = 0;
    while (pos < in.size() && !chunks_.done() && !chunks_.failed()) {
      const auto step = chunks_.feed(in.subspan(pos), in.size() - pos);
      if (!step.data.empty()) {
        if (step.data.data() != in.data() + out) std::memmove(in.data() + out, step.data.data(), step.data.size());
        out += step.data.size();
      }
      pos += step.consumed;
      if (step.consumed == 0) break;
    }
    if (chunks_.done() && pos < in.size()) {
      const auto rest = in.subspan(pos);
      std::memcpy(buffer_.prepare(rest.size()).data(), rest.data(), rest.size());
      buffer_.commit(rest.size());
    }
    return out;
  }

  // Chunks up to this size are read whole, with their framing (gather_chunks).
  static constexpr std::uint64_t kGatherChunkBytes = 64 * 1024;

  Stream& stream_;
  beast::flat_buffer& buffer_;
  bhttp::request_parser<bhttp::buffer_body>& parser_;
  Activity& act_;
  SessionContext& ctx_;
  const bool chunked_;
  ChunkedDecoder chunks_;
  error_code failed_;
};

constexpr std::string_view kCrlf = "\r\n";
constexpr std::string_view kLastChunk = "0\r\n\r\n";

const char* reason(unsigned status) {
  auto r = bhttp::obsolete_reason(static_cast<bhttp::status>(status));
  return r.empty() ? "Unknown" : r.data();
}

template <class Stream>
class Http1ResponseWriter final : public ResponseWriter {
 public:
  // `must_close`: asked when the head is formatted; true makes this the connection's last response.
  Http1ResponseWriter(Stream& s, Activity& a, SessionContext& ctx, bool keep_alive, bool head,
                      std::function<bool()> must_close)
      : stream_(s),
        act_(a),
        ctx_(ctx),
        keep_alive_(keep_alive),
        head_request_(head),
        must_close_(std::move(must_close)) {}

  // Whether the connection may carry another request after this response.
  [[nodiscard]] bool reusable() const noexcept { return keep_alive_; }

 protected:
  asio::awaitable<error_code> do_start(unsigned status, const Headers& headers, bool has_length) override {
    head_ = format_head(status, headers, has_length);
    chunked_ = !has_length && !no_body(status);
    // The head goes out at once: PutMedia needs its 200 before any body byte is produced.
    co_return co_await write_all(stream_, act_, ctx_, Buffers(asio::buffer(head_)));
  }

  asio::awaitable<error_code> do_write(std::string_view data) override {
    if (head_request_) co_return error_code{};
    if (!chunked_) co_return co_await write_all(stream_, act_, ctx_, Buffers(asio::buffer(data)));
    chunk_line_ = fmt_hex(data.size());
    co_return co_await write_all(stream_, act_, ctx_,
                                 Buffers(asio::buffer(chunk_line_), asio::buffer(data), asio::buffer(kCrlf)));
  }

  asio::awaitable<error_code> do_write_file(FileRange range) override {
    if constexpr (!std::is_same_v<Stream, asio::ip::tcp::socket>) {
      co_return co_await ResponseWriter::do_write_file(range);
    } else {
      if (head_request_) co_return error_code{};
      if (chunked_) {
        chunk_line_ = fmt_hex(static_cast<std::size_t>(range.size));
        if (auto ec = co_await write_all(stream_, act_, ctx_, Buffers(asio::buffer(chunk_line_)))) co_return ec;
      }
      if (auto ec = co_await send_file(range)) co_return ec;
      if (chunked_) co_return co_await write_all(stream_, act_, ctx_, Buffers(asio::buffer(kCrlf)));
      co_return error_code{};
    }
  }

  asio::awaitable<error_code> do_finish() override {
    if (!chunked_ || head_request_) co_return error_code{};
    co_return co_await write_all(stream_, act_, ctx_, Buffers(asio::buffer(kLastChunk)));
  }

  asio::awaitable<error_code> do_send(unsigned status, const Headers& headers, std::string body) override {
    head_ = format_head(status, headers, true);
    chunked_ = false;
    if (head_request_ || no_body(status))
      co_return co_await write_all(stream_, act_, ctx_, Buffers(asio::buffer(head_)));
    co_return co_await write_all(stream_, act_, ctx_, {asio::buffer(head_), asio::buffer(body)});
  }

 private:
  static bool no_body(unsigned status) { return status == 204 || status == 304 || (status >= 100 && status < 200); }

  // sendfile(2) from the page cache to the socket, waiting for writability whenever the socket
  // buffer is full; the write-stall watchdog sees each step as progress.
  asio::awaitable<error_code> send_file(FileRange range) {
    auto& sock = beast::get_lowest_layer(stream_);
    error_code ec;
    if (!sock.native_non_blocking()) sock.native_non_blocking(true, ec);
    if (ec) co_return ec;
    static constexpr std::uint64_t kMaxPerCall = 1ull << 30;
    auto offset = static_cast<off_t>(range.offset);
    std::uint64_t left = range.size;
    act_.write_pending = true;
    act_.last_write_progress = Clock::now();
    while (left > 0) {
      const auto n = ::sendfile(sock.native_handle(), range.fd, &offset, std::min(left, kMaxPerCall));
      if (n > 0) {
        left -= static_cast<std::uint64_t>(n);
        act_.last_write_progress = Clock::now();
        ctx_.metrics.bytes_sent.inc(static_cast<std::uint64_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        auto [wec] = co_await sock.async_wait(asio::ip::tcp::socket::wait_write, kTuple);
        if (wec) {
          ec = wec;
          break;
        }
        continue;
      }
      // n == 0: the file ended before the range did.
      ec = n == 0 ? boost::system::errc::make_error_code(boost::system::errc::io_error)
                  : error_code(errno, boost::system::system_category());
      break;
    }
    act_.write_pending = false;
    co_return ec;
  }

  std::string format_head(unsigned status, const Headers& headers, bool has_length) {
    std::string h;
    h.reserve(256);
    h += "HTTP/1.1 ";
    h += std::to_string(status);
    h += ' ';
    h += reason(status);
    h += "\r\n";
    for (const auto& [name, value] : headers) {
      if (iequals(name, "connection") || iequals(name, "transfer-encoding")) continue;
      if (no_body(status) && iequals(name, "content-length")) continue;
      h += name;
      h += ": ";
      h += value;
      h += "\r\n";
    }
    if (!has_length && !no_body(status)) h += "transfer-encoding: chunked\r\n";
    if (!keep_alive_ || ctx_.draining || must_close_()) {
      keep_alive_ = false;
      h += "connection: close\r\n";
    }
    h += "\r\n";
    return h;
  }

  Stream& stream_;
  Activity& act_;
  SessionContext& ctx_;
  bool keep_alive_;
  bool head_request_;
  std::function<bool()> must_close_;
  bool chunked_ = false;
  std::string head_;
  std::string chunk_line_;
};

// Reads and discards what is left of a request body, up to kDrainLimit bytes, within
// limits.linger_timeout.
template <class Body>
asio::awaitable<bool> drain_body(Body& body, const Limits& limits) {
  body.set_deadline(Clock::now() + limits.linger_timeout);
  std::array<std::byte, 16 * 1024> scratch{};
  std::size_t drained = 0;
  while (drained <= kDrainLimit) {
    BodyRead r = co_await body.read_some(scratch);
    if (r.ec) co_return false;
    if (r.bytes == 0) co_return true;
    drained += r.bytes;
  }
  co_return false;
}

// Sends a complete error response straight on the socket (the head could not be parsed, so no
// Request exists and the dispatcher is not involved).
template <class Stream>
asio::awaitable<void> reject(Stream& stream, Activity& act, SessionContext& ctx, unsigned status, std::string_view type,
                             std::string_view message) {
  const std::string body = aws_error_body(type, message);
  std::string head = "HTTP/1.1 " + std::to_string(status) + ' ' + reason(status) +
                     "\r\ncontent-type: application/json\r\nx-amzn-ErrorType: " + std::string(type) +
                     "\r\nconnection: close\r\ncontent-length: " + std::to_string(body.size()) + "\r\n\r\n";
  co_await write_all(stream, act, ctx, Buffers(asio::buffer(head), asio::buffer(body)));
  ctx.metrics.observe_request("rejected", status, "HTTP/1.1", 0.0);
  spdlog::info("access - - rejected status={} reason=\"{}\" proto=HTTP/1.1 peer={}", status, message,
               ctx.info->remote_address);
}

// Lingering close: the response is out, but the client may still be sending (a body the server
// stopped reading). Closing with unread bytes makes the kernel send a reset, which destroys the
// response bytes the client has not read yet (a PutMedia's last ACKs). So the write side is shut
// (the client sees the end), and what arrives is read and dropped until the client closes, or
// limits.linger_timeout passes (the watchdog then closes the socket).
template <class Stream>
asio::awaitable<void> linger(Stream& stream, Activity& act, exec::AsyncEvent& wake, SessionContext& ctx) {
  error_code ignored;
  beast::get_lowest_layer(stream).shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  act.phase = Activity::Phase::linger;
  act.phase_since = Clock::now();
  wake.notify();
  std::array<std::byte, 16 * 1024> scratch{};
  std::uint64_t dropped = 0;
  for (;;) {
    auto [ec, n] = co_await beast::get_lowest_layer(stream).async_read_some(asio::buffer(scratch), kTuple);
    dropped += n;
    if (ec) break;
  }
  ctx.metrics.bytes_received.inc(dropped);
  if (dropped > 0)
    spdlog::debug("http1 {}:{} lingering close dropped {} bytes", ctx.info->remote_address, ctx.info->remote_port,
                  dropped);
}

// Watchdog: closes the socket when a connection timeout passes (every pending operation then
// fails), and cancels a body read that is too slow (the read fails with timed_out and the
// handler still answers; the connection closes after that exchange).
template <class Stream>
asio::awaitable<void> watchdog(Stream& stream, std::shared_ptr<Activity> act, std::shared_ptr<exec::AsyncEvent> wake,
                               SessionContext& ctx) {
  while (!act->closed) {
    Clock::time_point next;
    const auto now = Clock::now();
    if (const char* why = Watchdog::check(*act, ctx.limits, now, next)) {
      spdlog::debug("http1 {}:{} closed: {} timeout", ctx.info->remote_address, ctx.info->remote_port, why);
      ctx.metrics.timeouts_total.with({why}).inc();
      act->closed = true;
      close_stream(stream);
      co_return;
    }
    if (const char* why = act->check_pending_body(now, next)) {
      ctx.metrics.timeouts_total.with({why}).inc();
      act->body_cancel.emit(asio::cancellation_type::terminal);
    }
    co_await wake->wait_until(next);
  }
}

enum class HeadRead {
  ok,        // a request head within every limit, its framing unambiguous
  closed,    // the connection ended or failed before a head: close quietly
  rejected,  // answered with 400 / 431 (connection: close): linger, then close
};

// Reads the next request head: waits for its first byte while idle, then gives the whole head
// the header timeout; checks the head against limits.header_bytes and header_count and its
// framing (framing_problem) and answers a bad one itself.
template <class Stream>
asio::awaitable<HeadRead> read_head(Stream& stream, beast::flat_buffer& buffer,
                                    bhttp::request_parser<bhttp::buffer_body>& parser, Activity& act,
                                    exec::AsyncEvent& wake, SessionContext& ctx) {
  act.phase = buffer.size() > 0 ? Activity::Phase::header : Activity::Phase::idle;
  act.phase_since = Clock::now();
  wake.notify();
  if (buffer.size() == 0) {
    auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), kTuple);
    if (ec) co_return HeadRead::closed;
    buffer.commit(n);
    ctx.metrics.bytes_received.inc(n);
    act.phase = Activity::Phase::header;
    act.phase_since = Clock::now();
    wake.notify();
  }
  auto [ec, n] = co_await bhttp::async_read_header(stream, buffer, parser, kTuple);
  ctx.metrics.bytes_received.inc(n);
  if (ec == bhttp::error::header_limit) {
    co_await reject(stream, act, ctx, 431, "RequestHeaderFieldsTooLarge", "request header exceeds the limit");
    co_return HeadRead::rejected;
  }
  if (ec) {
    if (ec == asio::error::eof || ec == bhttp::error::end_of_stream || ec == asio::error::operation_aborted ||
        ec == asio::error::bad_descriptor || ec == asio::error::connection_reset)
      co_return HeadRead::closed;
    co_await reject(stream, act, ctx, 400, "BadRequest", "malformed request: " + ec.message());
    co_return HeadRead::rejected;
  }
  // Beast applies its header limit to each parse step, so a head up to three times the limit
  // can pass it (found by tests/fuzz/http1_request_head_fuzz.cpp): bound the whole head here.
  if (n > ctx.limits.header_bytes) {
    co_await reject(stream, act, ctx, 431, "RequestHeaderFieldsTooLarge", "request header exceeds the limit");
    co_return HeadRead::rejected;
  }
  const auto& msg = parser.get();
  if (static_cast<std::size_t>(std::distance(msg.begin(), msg.end())) > ctx.limits.header_count) {
    co_await reject(stream, act, ctx, 431, "RequestHeaderFieldsTooLarge", "too many header fields");
    co_return HeadRead::rejected;
  }
  if (const char* problem = framing_problem(parser)) {
    co_await reject(stream, act, ctx, 400, "BadRequest", std::string("malformed request: ") + problem);
    co_return HeadRead::rejected;
  }
  co_return HeadRead::ok;
}

}  // namespace

template <class Stream>
asio::awaitable<void> run_http1_session(Stream& stream, beast::flat_buffer buffer, SessionContext& ctx) {
  auto ex = co_await asio::this_coro::executor;
  auto act = std::make_shared<Activity>();
  auto wake = std::make_shared<exec::AsyncEvent>(ex);

  asio::co_spawn(ex, watchdog(stream, act, wake, ctx), asio::detached);

  ctx.on_drain = [&stream, act] {
    if (act->phase == Activity::Phase::idle) {
      act->closed = true;
      close_stream(stream);
    }
  };

  bool lingering = false;  // the last response went out with request bytes possibly unread
  while (!ctx.draining && !act->closed) {
    bhttp::request_parser<bhttp::buffer_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(ctx.limits.header_bytes));
    parser.body_limit(boost::none);  // bodies are bounded by each operation, not the transport

    const HeadRead head = co_await read_head(stream, buffer, parser, *act, *wake, ctx);
    if (head != HeadRead::ok) {
      lingering = head == HeadRead::rejected;
      break;
    }
    const auto& msg = parser.get();

    act->phase = Activity::Phase::exchange;
    wake->notify();

    Request req = make_request(msg, ctx.info);

    if (expects_continue(parser) && !parser.is_done()) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      if (co_await write_all(stream, *act, ctx, Buffers(asio::buffer(kContinue)))) break;
    }

    Http1BodySource<Stream> body(stream, buffer, parser, *act, ctx);
    req.body = &body;
    Http1ResponseWriter<Stream> writer(stream, *act, ctx, msg.keep_alive() && msg.version() == 11, req.method == "HEAD",
                                       [&body] { return body.undrainable(); });
    co_await ctx.dispatcher.dispatch(req, writer);

    // The connection can carry another request only if both messages ended cleanly. A small
    // unread request body (an error answered before the handler read it) is drained so the
    // client's next request on this connection still works; a large one closes the connection,
    // lingering so that the response reaches the client.
    if (!writer.finished()) break;
    if (!writer.reusable()) {
      lingering = !body.complete();
      break;
    }
    if (!body.complete() && !co_await drain_body(body, ctx.limits)) {
      lingering = true;
      break;
    }
  }

  if (lingering && !act->closed) co_await linger(stream, *act, *wake, ctx);
  act->closed = true;
  wake->notify();
  close_stream(stream);
}

template asio::awaitable<void> run_http1_session<asio::ip::tcp::socket>(asio::ip::tcp::socket&, beast::flat_buffer,
                                                                        SessionContext&);
template asio::awaitable<void> run_http1_session<asio::ssl::stream<asio::ip::tcp::socket>>(
    asio::ssl::stream<asio::ip::tcp::socket>&, beast::flat_buffer, SessionContext&);

}  // namespace kvsd::http
