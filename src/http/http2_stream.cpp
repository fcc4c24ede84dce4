#include "http/http2_stream.hpp"

#include <nghttp2/nghttp2.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/error.hpp>
#include <charconv>
#include <cstring>

#include "http/http2_connection.hpp"
#include "kvs/decimal.hpp"
#include "obs/http_metrics.hpp"

namespace kvsd::http {

namespace asio = boost::asio;
using boost::system::error_code;

// --- ByteQueue -------------------------------------------------------------------------------

void ByteQueue::push(std::string_view bytes) {
  if (bytes.empty()) return;
  chunks_.emplace_back(bytes);
  size_ += bytes.size();
}

void ByteQueue::push(std::string&& bytes) {
  if (bytes.empty()) return;
  size_ += bytes.size();
  chunks_.push_back(std::move(bytes));
}

std::size_t ByteQueue::take(void* dst, std::size_t max) {
  auto* out = static_cast<char*>(dst);
  std::size_t done = 0;
  if (!chunks_.empty()) {
    const std::string& front = chunks_.front();
    const std::size_t n = std::min(max, front.size() - front_offset_);
    std::memcpy(out, front.data() + front_offset_, n);
    done = n;
    front_offset_ += n;
    if (front_offset_ == front.size()) {
      chunks_.pop_front();
      front_offset_ = 0;
    }
  }
  size_ -= done;
  return done;
}

void ByteQueue::clear() noexcept {
  chunks_.clear();
  front_offset_ = 0;
  size_ = 0;
}

// --- Http2BodySource -------------------------------------------------------------------------

Http2BodySource::Http2BodySource(Http2Connection& conn, Http2Stream& stream)
    : conn_(conn), st_(stream), pace_(conn.context().limits.body_stall_timeout, conn.context().limits.body_min_rate) {}

asio::awaitable<BodyRead> Http2BodySource::read_some(std::span<std::byte> buf) {
  using Clock = Http2Stream::Clock;
  if (buf.empty()) co_return BodyRead{0, asio::error::invalid_argument};
  if (failed_) co_return BodyRead{0, failed_};
  pace_.wait_begins(Clock::now());
  for (;;) {
    if (st_.error) {
      conn_.discard_body(st_);
      co_return BodyRead{0, st_.error};
    }
    const auto now = Clock::now();
    if (deadline_ && now >= *deadline_) co_return BodyRead{0, fail("body_deadline")};
    if (!st_.body.empty()) {
      const std::size_t n = st_.body.take(buf.data(), buf.size());
      conn_.consume(st_, n);  // only now may the peer send more
      if (!pace_.wait_ends(now, n)) co_return BodyRead{0, fail("body_stall")};
      co_return BodyRead{n, {}};
    }
    if (st_.remote_ended) {
      (void)pace_.wait_ends(now, 0);
      co_return BodyRead{0, {}};
    }
    if (conn_.closed() || st_.closed) co_return BodyRead{0, asio::error::connection_reset};
    auto next = Clock::time_point::max();
    if (!pace_.check_waiting(now, next)) co_return BodyRead{0, fail("body_stall")};
    if (deadline_) next = std::min(next, *deadline_);
    (void)co_await st_.body_event.wait_until(next);
  }
}

boost::system::error_code Http2BodySource::fail(const char* why) {
  SessionContext& ctx = conn_.context();
  spdlog::debug("h2 {}:{} stream {} body failed: {} timeout", ctx.info->remote_address, ctx.info->remote_port, st_.id,
                why);
  ctx.metrics.timeouts_total.with({why}).inc();
  conn_.discard_body(st_);
  failed_ = asio::error::timed_out;
  return failed_;
}

std::optional<std::uint64_t> Http2BodySource::declared_length() const {
  const auto v = st_.request.headers.get("content-length");
  if (!v) return std::nullopt;
  return kvs::parse_decimal<std::uint64_t>(*v);
}

// --- Http2ResponseWriter ---------------------------------------------------------------------

asio::awaitable<error_code> Http2ResponseWriter::do_start(unsigned status, const Headers& headers,
                                                          bool /*has_content_length*/) {
  if (auto ec = conn_.stream_error(st_)) co_return ec;
  no_body_ = head_request_ || status_has_no_body(status);
  co_return conn_.submit_response(st_, status, headers, !no_body_);
}

asio::awaitable<error_code> Http2ResponseWriter::do_write(std::string_view data) {
  if (auto ec = conn_.stream_error(st_)) co_return ec;
  if (no_body_) co_return error_code{};
  conn_.queue_output(st_, std::string(data));
  conn_.resume_output(st_);
  co_return co_await wait_below_high_water();
}

asio::awaitable<error_code> Http2ResponseWriter::wait_below_high_water() {
  // Woken when nghttp2 pulls from the queue, or when the stream or connection dies (the
  // watchdog resets a stream whose queue made no progress for limits.write_stall_timeout).
  for (;;) {
    if (auto ec = conn_.stream_error(st_)) co_return ec;
    if (st_.out.size() < kHighWater) co_return error_code{};
    co_await st_.write_event.wait();
  }
}

asio::awaitable<error_code> Http2ResponseWriter::do_finish() {
  if (auto ec = conn_.stream_error(st_)) co_return ec;
  if (no_body_) co_return error_code{};
  st_.out_eof = true;
  conn_.resume_output(st_);
  co_return error_code{};
}

asio::awaitable<error_code> Http2ResponseWriter::do_send(unsigned status, const Headers& headers, std::string body) {
  if (auto ec = conn_.stream_error(st_)) co_return ec;
  no_body_ = head_request_ || status_has_no_body(status) || body.empty();
  if (!no_body_) {
    conn_.queue_output(st_, std::move(body));
    st_.out_eof = true;
  }
  co_return conn_.submit_response(st_, status, headers, !no_body_);
}

}  // namespace kvsd::http
