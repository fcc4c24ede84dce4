#include "http/http2_stream.hpp"

#include <nghttp2/nghttp2.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/error.hpp>
#include <cstring>

#include "http/http2_connection.hpp"
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

asio::awaitable<BodyRead> Http2BodySource::read_some(std::span<std::byte> buf) {
  if (buf.empty()) co_return BodyRead{0, asio::error::invalid_argument};
  SessionContext& ctx = conn_.context();
  const auto deadline = Http2Stream::Clock::now() + ctx.limits.body_stall_timeout;
  for (;;) {
    if (st_.error) {
      conn_.discard_body(st_);
      co_return BodyRead{0, st_.error};
    }
    if (!st_.body.empty()) {
      const std::size_t n = st_.body.take(buf.data(), buf.size());
      conn_.consume(st_, n);  // only now may the peer send more
      co_return BodyRead{n, {}};
    }
    if (st_.remote_ended) co_return BodyRead{0, {}};
    if (conn_.closed() || st_.closed) co_return BodyRead{0, asio::error::connection_reset};
    const bool woken = co_await st_.body_event.wait_until(deadline);
    if (!woken && st_.body.empty() && !st_.remote_ended && !st_.error && !st_.closed && !conn_.closed()) {
      spdlog::debug("h2 {}:{} stream {} reset: body_stall timeout", ctx.info->remote_address, ctx.info->remote_port,
                    st_.id);
      ctx.metrics.timeouts_total.with({"body_stall"}).inc();
      conn_.reset_stream(st_, NGHTTP2_CANCEL, asio::error::timed_out);
      co_return BodyRead{0, asio::error::timed_out};
    }
  }
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
