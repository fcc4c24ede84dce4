#pragma once
// One HTTP/2 request stream: the state shared by the nghttp2 callbacks (which only record what
// arrived or left) and the coroutine running the stream's handler, and the BodySource and
// ResponseWriter that handler sees. Everything here lives on the connection's strand.
//
// Ownership: Http2Connection keeps a shared_ptr to each stream nghttp2 still knows; the handler
// coroutine holds another, so a stream outlives whichever of the two ends last.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "exec/async_event.hpp"
#include "http/body_pace.hpp"
#include "http/request.hpp"
#include "http/response_writer.hpp"

namespace kvsd::http {

class Http2Connection;

// FIFO of byte chunks; memory is proportional to the bytes held.
class ByteQueue {
 public:
  void push(std::string_view bytes);
  void push(std::string&& bytes);
  // Moves up to `max` bytes of the front chunk into `dst`; returns how many. Never joins two
  // chunks, so each pushed chunk (one ResponseWriter::write) leaves in DATA frames of its own.
  std::size_t take(void* dst, std::size_t max);
  void clear() noexcept;
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }

 private:
  std::deque<std::string> chunks_;
  std::size_t front_offset_ = 0;
  std::size_t size_ = 0;
};

struct Http2Stream {
  using Clock = std::chrono::steady_clock;

  Http2Stream(std::int32_t stream_id, const boost::asio::any_io_executor& ex)
      : id(stream_id), body_event(ex), write_event(ex) {}

  const std::int32_t id;
  Request request;
  const Clock::time_point opened_at = Clock::now();

  // Request head as the header callbacks saw it.
  std::size_t header_bytes = 0;
  std::size_t header_count = 0;
  bool headers_too_large = false;
  bool headers_complete = false;

  // Request body received but not yet read by the handler. Every byte here is still unconsumed,
  // i.e. not yet acknowledged to the peer with WINDOW_UPDATE.
  ByteQueue body;
  bool remote_ended = false;    // END_STREAM received
  bool discard_body = false;    // nobody will read: DATA is consumed as it arrives
  exec::AsyncEvent body_event;  // waited on only by read_some

  // Response body written by the handler, not yet taken by nghttp2.
  ByteQueue out;
  bool response_submitted = false;
  bool out_eof = false;        // the response is complete once the queue drains
  bool response_sent = false;  // END_STREAM sent
  Clock::time_point out_progress{};
  // Each DATA frame of this stream ends the socket write that carries it (so, over TLS, its TLS
  // record): ResponseWriter::deliver_writes_separately.
  bool frame_ends_write = false;
  exec::AsyncEvent write_event;  // waited on only by the response writer

  bool handler_running = false;
  bool handler_done = false;
  bool closed = false;              // nghttp2 closed the stream
  boost::system::error_code error;  // once set the exchange is dead: reset, timeout, connection gone
};

// The request body of one stream. Time counts only while read_some waits for the client; each
// limits.body_stall_timeout of waiting must bring limits.body_min_rate bytes per second, and a
// deadline (set_deadline) bounds the whole body. A body that fails either way fails with
// timed_out and its further DATA is dropped, but the stream stays open for the handler's answer
// (PutMedia's ERROR 4000, a 408); the stream is reset (NO_ERROR) once the response has ended.
class Http2BodySource final : public BodySource {
 public:
  Http2BodySource(Http2Connection& conn, Http2Stream& stream);
  boost::asio::awaitable<BodyRead> read_some(std::span<std::byte> buf) override;
  void set_deadline(std::chrono::steady_clock::time_point deadline) override { deadline_ = deadline; }
  [[nodiscard]] std::optional<std::uint64_t> declared_length() const override;

 private:
  boost::system::error_code fail(const char* why);

  Http2Connection& conn_;
  Http2Stream& st_;
  BodyPace pace_;
  std::optional<std::chrono::steady_clock::time_point> deadline_;
  boost::system::error_code failed_;
};

// The response side of one stream. write() completes once the stream's unsent bytes fall below
// kHighWater; it fails when the stream was reset, timed out (write stall) or the connection ended.
class Http2ResponseWriter final : public ResponseWriter {
 public:
  static constexpr std::size_t kHighWater = 64 * 1024;

  Http2ResponseWriter(Http2Connection& conn, Http2Stream& stream, bool head_request)
      : conn_(conn), st_(stream), head_request_(head_request) {}

 protected:
  boost::asio::awaitable<boost::system::error_code> do_start(unsigned status, const Headers& headers,
                                                             bool has_content_length) override;
  boost::asio::awaitable<boost::system::error_code> do_write(std::string_view data) override;
  boost::asio::awaitable<boost::system::error_code> do_finish() override;
  boost::asio::awaitable<boost::system::error_code> do_send(unsigned status, const Headers& headers,
                                                            std::string body) override;
  void do_deliver_writes_separately() override { st_.frame_ends_write = true; }

 private:
  boost::asio::awaitable<boost::system::error_code> wait_below_high_water();

  Http2Connection& conn_;
  Http2Stream& st_;
  bool head_request_;
  bool no_body_ = false;  // HEAD, 204, 304: END_STREAM rides on the HEADERS frame
};

// Statuses whose responses never carry content.
constexpr bool status_has_no_body(unsigned status) noexcept {
  return status == 204 || status == 304 || (status >= 100 && status < 200);
}

}  // namespace kvsd::http
