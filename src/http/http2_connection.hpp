#pragma once
// Http2Connection: the protocol state of one HTTP/2 server connection, with no I/O of its own.
// It owns the nghttp2 session, the table of open streams and the handler coroutines; the
// session's reader feeds it bytes (on_receive), its writer drains it (collect_output), and its
// watchdog asks it for due timeouts (check_timeouts). Handlers reach it through Http2BodySource
// and Http2ResponseWriter.
//
// Strand affinity: every member runs on the connection's strand. nghttp2 callbacks only record
// events into stream state; anything that would re-enter nghttp2 is deferred until the call
// that triggered them (mem_recv / mem_send) has returned.
//
// Lifetime: held by shared_ptr by the session and by each coroutine it spawns, so no coroutine
// outlives the nghttp2 session it touches. join() completes once every spawned coroutine ended.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "exec/async_event.hpp"
#include "http/http2_stream.hpp"
#include "http/session_context.hpp"

struct nghttp2_session;

namespace kvsd::http {

struct Http2Callbacks;

class Http2Connection : public std::enable_shared_from_this<Http2Connection> {
 public:
  using Clock = std::chrono::steady_clock;

  Http2Connection(SessionContext& ctx, boost::asio::any_io_executor ex);
  ~Http2Connection();
  Http2Connection(const Http2Connection&) = delete;
  Http2Connection& operator=(const Http2Connection&) = delete;

  // Creates the nghttp2 session and queues the server SETTINGS and the connection window.
  [[nodiscard]] bool start();

  // Runs `task` on the strand and counts it until it completes (see join()).
  void spawn(boost::asio::awaitable<void> task);
  // Completes once every coroutine started by spawn() and every stream handler has finished.
  boost::asio::awaitable<void> join();

  // --- reader ----------------------------------------------------------------------------------
  // Feeds received bytes and starts the handlers of completed request heads. False on a fatal
  // error: the connection must be closed without further writes.
  [[nodiscard]] bool on_receive(const std::uint8_t* data, std::size_t n);
  [[nodiscard]] bool want_read() const;

  // --- writer ----------------------------------------------------------------------------------
  // Appends pending frames to `out` until it holds at least `max` bytes, nothing is pending, or
  // it appended a DATA frame of a stream whose frames each end a write (Http2Stream::
  // frame_ends_write): the caller writes `out` in one socket write, so that frame ends it.
  // False on a fatal error.
  [[nodiscard]] bool collect_output(std::string& out, std::size_t max);
  // Nothing left to read or write: GOAWAY exchanged and every stream closed.
  [[nodiscard]] bool finished() const;
  void write_started();
  void write_finished();
  exec::AsyncEvent& write_wake() { return write_wake_; }

  // --- watchdog --------------------------------------------------------------------------------
  // Applies every timeout due at `now` and returns when to check next. Sets `close_now` when the
  // socket must be closed at once (write stall on the socket itself).
  Clock::time_point check_timeouts(Clock::time_point now, bool& close_now);
  exec::AsyncEvent& watch_wake() { return watch_wake_; }

  // --- lifecycle -------------------------------------------------------------------------------
  // Graceful drain: GOAWAY (shutdown notice, then the final one); the connection finishes once
  // its streams are done.
  void drain();
  // The transport is gone: fail every stream so its handler returns. Idempotent.
  void close();
  [[nodiscard]] bool closed() const noexcept { return closed_; }
  SessionContext& context() noexcept { return ctx_; }

  // --- used by a stream's BodySource and ResponseWriter ------------------------------------------
  // The error a stream operation must fail with now, or none.
  [[nodiscard]] boost::system::error_code stream_error(const Http2Stream& st) const;
  // Acknowledges `n` body bytes the handler took (WINDOW_UPDATE when due).
  void consume(Http2Stream& st, std::size_t n);
  // Acknowledges and drops every body byte still buffered; later DATA is consumed on arrival.
  void discard_body(Http2Stream& st);
  // Queues RST_STREAM and marks the exchange dead with `why`.
  void reset_stream(Http2Stream& st, std::uint32_t h2_error, boost::system::error_code why);
  // Submits the response HEADERS; with_body attaches the stream's out queue as data provider.
  boost::system::error_code submit_response(Http2Stream& st, unsigned status, const Headers& headers, bool with_body);
  // Appends response bytes to the stream's out queue (starting its write-stall clock when it was
  // empty); resume_output() then lets nghttp2 pull them.
  void queue_output(Http2Stream& st, std::string bytes);
  // The out queue gained bytes or END_STREAM: let nghttp2 pull again.
  void resume_output(Http2Stream& st);

 private:
  friend struct Http2Callbacks;

  void apply_deferred();
  void start_ready_streams();
  void reject_too_large(const std::shared_ptr<Http2Stream>& st);
  void start_handler(std::shared_ptr<Http2Stream> st);
  void submit_continue(Http2Stream& st);  // interim 100 for Expect: 100-continue
  static boost::asio::awaitable<void> run_handler(std::shared_ptr<Http2Connection> self,
                                                  std::shared_ptr<Http2Stream> st);
  void handler_finished(Http2Stream& st);
  void stream_gone();
  void submit_final_goaway();
  void terminate(std::uint32_t h2_error);
  void wake_writer() { write_wake_.notify(); }
  // Wakes the watchdog if `deadline` comes before the time it sleeps until.
  void poke_watchdog(Clock::time_point deadline);
  [[nodiscard]] bool quiet() const { return streams_.empty() && handlers_ == 0; }
  Http2Stream* find(std::int32_t id) const;

  SessionContext& ctx_;
  boost::asio::any_io_executor ex_;
  exec::AsyncEvent write_wake_;
  exec::AsyncEvent watch_wake_;
  exec::AsyncEvent tasks_done_;

  std::unordered_map<std::int32_t, std::shared_ptr<Http2Stream>> streams_;
  std::vector<std::shared_ptr<Http2Stream>> ready_;  // request heads completed in this mem_recv
  std::size_t tasks_ = 0;                            // spawned coroutines, handlers included
  std::size_t handlers_ = 0;                         // handler coroutines running

  // Work recorded by callbacks, applied once nghttp2 has returned.
  std::size_t deferred_connection_consume_ = 0;
  std::vector<std::pair<std::int32_t, std::size_t>> deferred_consume_;
  std::vector<std::pair<std::int32_t, std::uint32_t>> deferred_rst_;
  bool end_write_ = false;  // the frame mem_send just returned must end the socket write

  bool closed_ = false;
  bool terminating_ = false;  // terminate() queued a final GOAWAY
  bool draining_ = false;
  bool goaway_final_ = false;
  Clock::time_point drain_deadline_{};
  Clock::time_point idle_since_ = Clock::now();
  Clock::time_point watch_target_ = Clock::time_point::max();
  bool write_pending_ = false;
  Clock::time_point write_since_{};

  struct SessionDeleter {
    void operator()(nghttp2_session* s) const noexcept;
  };
  std::unique_ptr<nghttp2_session, SessionDeleter> session_;  // last: destroyed first
};

}  // namespace kvsd::http
