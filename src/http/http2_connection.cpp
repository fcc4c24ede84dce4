#include "http/http2_connection.hpp"

#include <nghttp2/nghttp2.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/error.hpp>
#include <exception>
#include <limits>
#include <string_view>
#include <utility>

#include "http/aws_error.hpp"
#include "http/dispatcher.hpp"
#include "obs/http_metrics.hpp"

namespace kvsd::http {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

// Between the shutdown notice and the final GOAWAY (RFC 9113 6.8: at least one round trip).
constexpr auto kDrainNoticeGrace = std::chrono::seconds(1);
// Handler coroutines allowed per connection, as a multiple of MAX_CONCURRENT_STREAMS.
constexpr std::size_t kHandlerSlack = 2;

}  // namespace

Http2Connection::Http2Connection(SessionContext& ctx, asio::any_io_executor ex)
    : ctx_(ctx), ex_(std::move(ex)), write_wake_(ex_), watch_wake_(ex_), tasks_done_(ex_) {}

Http2Connection::~Http2Connection() = default;

void Http2Connection::spawn(asio::awaitable<void> task) {
  ++tasks_;
  asio::co_spawn(ex_, std::move(task), [self = shared_from_this()](const std::exception_ptr& e) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        spdlog::error("h2 {}: task failed: {}", self->ctx_.info->remote_address, x.what());
      } catch (...) {
        spdlog::error("h2 {}: task failed", self->ctx_.info->remote_address);
      }
    }
    --self->tasks_;
    self->tasks_done_.notify();
  });
}

asio::awaitable<void> Http2Connection::join() {
  while (tasks_ > 0) co_await tasks_done_.wait();
}

bool Http2Connection::want_read() const { return !closed_ && nghttp2_session_want_read(session_.get()) != 0; }

bool Http2Connection::finished() const {
  return nghttp2_session_want_read(session_.get()) == 0 && nghttp2_session_want_write(session_.get()) == 0;
}

Http2Stream* Http2Connection::find(std::int32_t id) const {
  auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : it->second.get();
}

void Http2Connection::poke_watchdog(Clock::time_point deadline) {
  if (deadline < watch_target_) watch_wake_.notify();
}

bool Http2Connection::on_receive(const std::uint8_t* data, std::size_t n) {
  if (closed_) return false;
  idle_since_ = Clock::now();
  const auto rv = nghttp2_session_mem_recv(session_.get(), data, n);
  if (rv < 0) {
    spdlog::debug("h2 {}:{} closing: {}", ctx_.info->remote_address, ctx_.info->remote_port,
                  nghttp2_strerror(static_cast<int>(rv)));
    return false;
  }
  apply_deferred();
  start_ready_streams();
  wake_writer();
  return true;
}

bool Http2Connection::collect_output(std::string& out, std::size_t max) {
  if (closed_) return false;
  for (;;) {
    while (out.size() < max) {
      const std::uint8_t* data = nullptr;
      const auto n = nghttp2_session_mem_send(session_.get(), &data);
      if (n < 0) {
        spdlog::debug("h2 {}:{} closing: {}", ctx_.info->remote_address, ctx_.info->remote_port,
                      nghttp2_strerror(static_cast<int>(n)));
        return false;
      }
      if (n == 0) break;
      out.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
      if (end_write_) break;
    }
    const bool end_write = std::exchange(end_write_, false);
    if (deferred_connection_consume_ == 0 && deferred_consume_.empty() && deferred_rst_.empty()) return true;
    apply_deferred();
    if (end_write) return true;
  }
}

void Http2Connection::apply_deferred() {
  nghttp2_session* s = session_.get();
  if (deferred_connection_consume_ > 0) {
    nghttp2_session_consume_connection(s, deferred_connection_consume_);
    deferred_connection_consume_ = 0;
  }
  auto consumes = std::move(deferred_consume_);
  deferred_consume_.clear();
  for (const auto& [id, n] : consumes) nghttp2_session_consume(s, id, n);
  auto resets = std::move(deferred_rst_);
  deferred_rst_.clear();
  for (const auto& [id, code] : resets) nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, id, code);
}

void Http2Connection::write_started() {
  write_pending_ = true;
  write_since_ = Clock::now();
  poke_watchdog(write_since_ + ctx_.limits.write_stall_timeout);
}

void Http2Connection::write_finished() { write_pending_ = false; }

void Http2Connection::start_ready_streams() {
  auto ready = std::move(ready_);
  ready_.clear();
  for (auto& st : ready) {
    if (st->closed) continue;  // reset before its head was handled; its bytes were credited at close
    if (st->headers_too_large) {
      reject_too_large(st);
    } else if (handlers_ >= kHandlerSlack * ctx_.limits.h2_max_concurrent_streams) {
      // Handlers may outlive their streams (peer resets, work after the response), so nghttp2's
      // MAX_CONCURRENT_STREAMS alone does not bound them; REFUSED_STREAM is safe to retry.
      spdlog::debug("h2 {}:{} stream {} refused: {} handlers running", ctx_.info->remote_address,
                    ctx_.info->remote_port, st->id, handlers_);
      st->handler_done = true;
      discard_body(*st);
      reset_stream(*st, NGHTTP2_REFUSED_STREAM, asio::error::connection_refused);
    } else {
      start_handler(std::move(st));
    }
  }
}

void Http2Connection::reject_too_large(const std::shared_ptr<Http2Stream>& st) {
  const std::string_view message =
      st->header_count > ctx_.limits.header_count ? "too many header fields" : "request header exceeds the limit";
  st->handler_done = true;
  discard_body(*st);
  std::string body = aws_error_body("RequestHeaderFieldsTooLarge", message);
  Headers h{{"content-type", "application/json"},
            {"x-amzn-errortype", "RequestHeaderFieldsTooLarge"},
            {"content-length", std::to_string(body.size())}};
  queue_output(*st, std::move(body));
  st->out_eof = true;
  submit_response(*st, 431, h, true);
  ctx_.metrics.observe_request("rejected", 431, "HTTP/2", 0.0);
  spdlog::info("access - - rejected status=431 reason=\"{}\" proto=HTTP/2 peer={}", message, ctx_.info->remote_address);
}

void Http2Connection::start_handler(std::shared_ptr<Http2Stream> st) {
  Request& r = st->request;
  split_target(r.target, r.path, r.query);
  if (r.authority.empty()) {
    if (auto host = r.headers.get("host")) r.authority = std::string(*host);
  }
  r.protocol = Protocol::http2;
  r.connection = ctx_.info;
  if (!st->remote_ended) {
    auto expect = r.headers.get("expect");
    if (expect && iequals(*expect, "100-continue")) submit_continue(*st);
  }
  st->handler_running = true;
  ++handlers_;
  spawn(run_handler(shared_from_this(), std::move(st)));
}

asio::awaitable<void> Http2Connection::run_handler(std::shared_ptr<Http2Connection> self,
                                                   std::shared_ptr<Http2Stream> st) {
  Http2BodySource body(*self, *st);
  Http2ResponseWriter writer(*self, *st, st->request.method == "HEAD");
  st->request.body = &body;
  std::exception_ptr escaped;
  try {
    co_await self->ctx_.dispatcher.dispatch(st->request, writer);
  } catch (...) {
    escaped = std::current_exception();
  }
  st->request.body = nullptr;
  self->handler_finished(*st);
  if (escaped) std::rethrow_exception(escaped);  // logged by spawn()'s completion
}

void Http2Connection::handler_finished(Http2Stream& st) {
  st.handler_running = false;
  st.handler_done = true;
  --handlers_;
  discard_body(st);
  if (!closed_ && !st.closed) {
    if (!st.out_eof) {
      reset_stream(st, NGHTTP2_INTERNAL_ERROR, asio::error::operation_aborted);  // response left incomplete
    } else if (st.response_sent && !st.remote_ended) {
      nghttp2_submit_rst_stream(session_.get(), NGHTTP2_FLAG_NONE, st.id, NGHTTP2_NO_ERROR);
    }
    wake_writer();
  }
  stream_gone();
}

void Http2Connection::stream_gone() {
  if (!quiet()) return;
  idle_since_ = Clock::now();
  // Idle deadline, or the final GOAWAY of a drain, may now be due.
  watch_wake_.notify();
}

error_code Http2Connection::stream_error(const Http2Stream& st) const {
  if (st.error) return st.error;
  if (closed_) return asio::error::connection_aborted;
  if (st.closed) return asio::error::connection_reset;
  return {};
}

void Http2Connection::consume(Http2Stream& st, std::size_t n) {
  if (closed_ || n == 0) return;
  // For a stream nghttp2 already closed this credits the connection window only.
  nghttp2_session_consume(session_.get(), st.id, n);
  wake_writer();
}

void Http2Connection::discard_body(Http2Stream& st) {
  st.discard_body = true;
  const auto n = st.body.size();
  st.body.clear();
  consume(st, n);
}

void Http2Connection::reset_stream(Http2Stream& st, std::uint32_t h2_error, error_code why) {
  if (!st.error) st.error = why;
  if (!closed_ && !st.closed) {
    nghttp2_submit_rst_stream(session_.get(), NGHTTP2_FLAG_NONE, st.id, h2_error);
    wake_writer();
  }
  st.body_event.notify();
  st.write_event.notify();
}

void Http2Connection::queue_output(Http2Stream& st, std::string bytes) {
  if (bytes.empty()) return;
  if (st.out.empty()) {
    st.out_progress = Clock::now();
    poke_watchdog(st.out_progress + ctx_.limits.write_stall_timeout);
  }
  st.out.push(std::move(bytes));
}

void Http2Connection::resume_output(Http2Stream& st) {
  if (closed_ || st.closed || !st.response_submitted) return;
  nghttp2_session_resume_data(session_.get(), st.id);  // fails harmlessly when not deferred
  wake_writer();
}

void Http2Connection::terminate(std::uint32_t h2_error) {
  if (terminating_ || closed_) return;
  terminating_ = true;
  nghttp2_session_terminate_session(session_.get(), h2_error);
  wake_writer();
}

void Http2Connection::submit_final_goaway() {
  goaway_final_ = true;
  nghttp2_submit_goaway(session_.get(), NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(session_.get()),
                        NGHTTP2_NO_ERROR, nullptr, 0);
  wake_writer();
}

void Http2Connection::drain() {
  if (closed_ || draining_) return;
  draining_ = true;
  if (quiet()) {
    submit_final_goaway();
    return;
  }
  nghttp2_submit_shutdown_notice(session_.get());
  drain_deadline_ = Clock::now() + kDrainNoticeGrace;
  poke_watchdog(drain_deadline_);
  wake_writer();
}

void Http2Connection::close() {
  if (closed_) return;
  closed_ = true;
  for (auto& [id, st] : streams_) {
    if (!st->error) st->error = asio::error::connection_aborted;
    st->body_event.notify();
    st->write_event.notify();
  }
  write_wake_.notify();
  watch_wake_.notify();
}

Http2Connection::Clock::time_point Http2Connection::check_timeouts(Clock::time_point now, bool& close_now) {
  close_now = false;
  auto next = now + std::chrono::hours(1);
  auto due = [&](Clock::time_point deadline) {
    if (deadline <= now) return true;
    next = std::min(next, deadline);
    return false;
  };
  const auto& l = ctx_.limits;
  const auto& peer = ctx_.info->remote_address;
  if (closed_) return next;
  if (write_pending_ && due(write_since_ + l.write_stall_timeout)) {
    spdlog::debug("h2 {}:{} closed: write_stall timeout", peer, ctx_.info->remote_port);
    ctx_.metrics.timeouts_total.with({"write_stall"}).inc();
    close_now = true;
    return next;
  }
  if (!terminating_) {
    if (quiet() && due(idle_since_ + l.idle_timeout)) {
      spdlog::debug("h2 {}:{} closed: idle timeout", peer, ctx_.info->remote_port);
      ctx_.metrics.timeouts_total.with({"idle"}).inc();
      terminate(NGHTTP2_NO_ERROR);
    }
    for (auto& [id, st] : streams_) {
      if (terminating_) break;
      if (!st->headers_complete && due(st->opened_at + l.header_timeout)) {
        // A header block left open blocks the whole connection (no other frame may interleave).
        spdlog::debug("h2 {}:{} closed: header timeout on stream {}", peer, ctx_.info->remote_port, id);
        ctx_.metrics.timeouts_total.with({"header"}).inc();
        terminate(NGHTTP2_NO_ERROR);
      } else if (!st->error && !st->out.empty() && due(st->out_progress + l.write_stall_timeout)) {
        spdlog::debug("h2 {}:{} stream {} reset: write_stall timeout", peer, ctx_.info->remote_port, id);
        ctx_.metrics.timeouts_total.with({"write_stall"}).inc();
        reset_stream(*st, NGHTTP2_CANCEL, asio::error::timed_out);
      }
    }
    if (draining_ && !goaway_final_ && !terminating_ && (quiet() || due(drain_deadline_))) submit_final_goaway();
  }
  watch_target_ = next;
  return next;
}

}  // namespace kvsd::http
