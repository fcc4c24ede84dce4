// The nghttp2 side of Http2Connection: session creation and SETTINGS, the callbacks (which only
// record events), and response submission with its data provider.
#include "http/http2_connection.hpp"

#include <nghttp2/nghttp2.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/error.hpp>
#include <exception>
#include <limits>
#include <string_view>

namespace kvsd::http {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

// Each field counts name + value + 4 (": " and CRLF), so a head has about the size it would have
// on HTTP/1.1 and both protocols share limits.header_bytes.
constexpr std::size_t kFieldOverhead = 4;
constexpr std::size_t kMaxSendHeaderBlock = 64 * 1024;

std::string_view as_sv(const std::uint8_t* p, std::size_t n) { return {reinterpret_cast<const char*>(p), n}; }

nghttp2_nv make_nv(std::string_view name, std::string_view value) {
  // nghttp2 copies name and value (NGHTTP2_NV_FLAG_NONE), so the views need only outlive the call.
  return {reinterpret_cast<std::uint8_t*>(const_cast<char*>(name.data())),
          reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(),
          NGHTTP2_NV_FLAG_NONE};
}

bool is_connection_specific(std::string_view lower_name) {
  return lower_name == "connection" || lower_name == "transfer-encoding" || lower_name == "keep-alive" ||
         lower_name == "upgrade" || lower_name == "proxy-connection" || lower_name == "te";
}

}  // namespace

// The nghttp2 callbacks. They record what happened in stream state, wake waiting coroutines and
// defer anything that would call back into nghttp2. No exception may cross into nghttp2: the
// ones that allocate catch and fail the session.
struct Http2Callbacks {
  template <class F>
  static int guarded(F&& f) noexcept {
    try {
      return f();
    } catch (const std::exception& e) {
      spdlog::error("h2 callback failed: {}", e.what());
    } catch (...) {
      spdlog::error("h2 callback failed");
    }
    return NGHTTP2_ERR_CALLBACK_FAILURE;
  }

  static Http2Connection& conn(void* user_data) { return *static_cast<Http2Connection*>(user_data); }

  static bool is_request_head(const nghttp2_frame* frame) {
    return frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST;
  }

  static int on_begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    if (!is_request_head(frame)) return 0;
    return guarded([&] {
      auto& c = conn(user_data);
      auto st = std::make_shared<Http2Stream>(frame->hd.stream_id, c.ex_);
      const auto deadline = st->opened_at + c.ctx_.limits.header_timeout;
      c.streams_.insert_or_assign(frame->hd.stream_id, std::move(st));
      c.poke_watchdog(deadline);
      return 0;
    });
  }

  static int on_header(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name, std::size_t namelen,
                       const std::uint8_t* value, std::size_t valuelen, std::uint8_t /*flags*/, void* user_data) {
    if (!is_request_head(frame)) return 0;  // trailers are not passed on
    auto& c = conn(user_data);
    Http2Stream* st = c.find(frame->hd.stream_id);
    if (st == nullptr) return 0;
    const auto n = as_sv(name, namelen);
    const auto v = as_sv(value, valuelen);
    const bool pseudo = !n.empty() && n.front() == ':';
    st->header_bytes += n.size() + v.size() + kFieldOverhead;
    if (!pseudo) ++st->header_count;
    if (st->header_bytes > c.ctx_.limits.header_bytes || st->header_count > c.ctx_.limits.header_count) {
      st->headers_too_large = true;  // answered with 431 once the block ends; nothing more is stored
    }
    if (st->headers_too_large) return 0;
    return guarded([&] {
      Request& r = st->request;
      if (!pseudo) {
        r.headers.add(std::string(n), std::string(v));
      } else if (n == ":method") {
        r.method = v;
      } else if (n == ":path") {
        r.target = v;
      } else if (n == ":authority") {
        r.authority = v;
      }
      return 0;
    });
  }

  static int on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    if (frame->hd.type != NGHTTP2_DATA && frame->hd.type != NGHTTP2_HEADERS) return 0;
    auto& c = conn(user_data);
    auto it = c.streams_.find(frame->hd.stream_id);
    if (it == c.streams_.end()) return 0;
    Http2Stream& st = *it->second;
    if (is_request_head(frame)) {
      st.headers_complete = true;
      if (guarded([&] {
            c.ready_.push_back(it->second);
            return 0;
          }) != 0) {
        return NGHTTP2_ERR_CALLBACK_FAILURE;
      }
    }
    if ((frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0) {
      st.remote_ended = true;
      st.body_event.notify();
    }
    return 0;
  }

  static int on_data_chunk_recv(nghttp2_session*, std::uint8_t /*flags*/, std::int32_t stream_id,
                                const std::uint8_t* data, std::size_t len, void* user_data) {
    return guarded([&] {
      auto& c = conn(user_data);
      Http2Stream* st = c.find(stream_id);
      if (st == nullptr) {
        c.deferred_connection_consume_ += len;
      } else if (st->discard_body || st->error) {
        c.deferred_consume_.emplace_back(stream_id, len);
      } else {
        st->body.push(as_sv(data, len));
        st->body_event.notify();
      }
      return 0;
    });
  }

  static int on_stream_close(nghttp2_session*, std::int32_t stream_id, std::uint32_t h2_error, void* user_data) {
    auto& c = conn(user_data);
    auto it = c.streams_.find(stream_id);
    if (it == c.streams_.end()) return 0;
    std::shared_ptr<Http2Stream> st = std::move(it->second);
    c.streams_.erase(it);
    st->closed = true;
    if (!st->error && !(st->remote_ended && st->response_sent)) st->error = asio::error::connection_reset;
    if (!st->handler_running) {
      // No reader will come: the buffered bytes count as consumed (the stream is gone, so only
      // the connection window is owed).
      c.deferred_connection_consume_ += st->body.size();
      st->body.clear();
    }
    st->body_event.notify();
    st->write_event.notify();
    if (h2_error != NGHTTP2_NO_ERROR) {
      spdlog::debug("h2 {}:{} stream {} closed: {}", c.ctx_.info->remote_address, c.ctx_.info->remote_port, stream_id,
                    nghttp2_http2_strerror(h2_error));
    }
    c.stream_gone();
    return 0;
  }

  // nghttp2_session_mem_send calls this for the frame it is returning, before it returns it.
  static int on_frame_send(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    if (frame->hd.type != NGHTTP2_DATA && frame->hd.type != NGHTTP2_HEADERS) return 0;
    auto& c = conn(user_data);
    Http2Stream* st = c.find(frame->hd.stream_id);
    if (st == nullptr) return 0;
    if (frame->hd.type == NGHTTP2_DATA && st->frame_ends_write) c.end_write_ = true;
    if ((frame->hd.flags & NGHTTP2_FLAG_END_STREAM) == 0) return 0;
    st->response_sent = true;
    // The response is complete and nobody reads the rest of the request: ask the client to stop
    // sending (RFC 9113 8.1).
    if (!st->handler_done || st->remote_ended) return 0;
    return guarded([&] {
      c.deferred_rst_.emplace_back(st->id, NGHTTP2_NO_ERROR);
      return 0;
    });
  }

  static int on_frame_not_send(nghttp2_session*, const nghttp2_frame* frame, int lib_error, void* user_data) {
    auto& c = conn(user_data);
    spdlog::debug("h2 {}:{} frame type {} on stream {} not sent: {}", c.ctx_.info->remote_address,
                  c.ctx_.info->remote_port, frame->hd.type, frame->hd.stream_id, nghttp2_strerror(lib_error));
    return 0;
  }

  static int on_invalid_frame_recv(nghttp2_session*, const nghttp2_frame* frame, int lib_error, void* user_data) {
    auto& c = conn(user_data);
    spdlog::debug("h2 {}:{} invalid frame type {} on stream {}: {}", c.ctx_.info->remote_address,
                  c.ctx_.info->remote_port, frame->hd.type, frame->hd.stream_id, nghttp2_strerror(lib_error));
    return 0;
  }

  static int on_error(nghttp2_session*, int /*lib_error*/, const char* msg, std::size_t len, void* user_data) {
    auto& c = conn(user_data);
    spdlog::debug("h2 {}:{} {}", c.ctx_.info->remote_address, c.ctx_.info->remote_port, std::string_view(msg, len));
    return 0;
  }

  // Data provider of every response body: pulls from the stream's out queue, defers while the
  // handler has not produced more, ends the stream once the queue is drained after finish().
  static ssize_t read_body(nghttp2_session*, std::int32_t stream_id, std::uint8_t* buf, std::size_t length,
                           std::uint32_t* data_flags, nghttp2_data_source*, void* user_data) {
    auto& c = conn(user_data);
    Http2Stream* st = c.find(stream_id);
    if (st == nullptr) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    const std::size_t n = st->out.take(buf, length);
    if (n > 0) {
      st->out_progress = Http2Connection::Clock::now();
      st->write_event.notify();
    }
    if (st->out.empty() && st->out_eof) {
      *data_flags |= NGHTTP2_DATA_FLAG_EOF;
      return static_cast<ssize_t>(n);
    }
    if (n == 0) return NGHTTP2_ERR_DEFERRED;
    return static_cast<ssize_t>(n);
  }
};

void Http2Connection::SessionDeleter::operator()(nghttp2_session* s) const noexcept { nghttp2_session_del(s); }

bool Http2Connection::start() {
  nghttp2_session_callbacks* raw_callbacks = nullptr;
  if (nghttp2_session_callbacks_new(&raw_callbacks) != 0) return false;
  std::unique_ptr<nghttp2_session_callbacks, void (*)(nghttp2_session_callbacks*)> callbacks(
      raw_callbacks, &nghttp2_session_callbacks_del);
  nghttp2_session_callbacks_set_on_begin_headers_callback(raw_callbacks, &Http2Callbacks::on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(raw_callbacks, &Http2Callbacks::on_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(raw_callbacks, &Http2Callbacks::on_frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(raw_callbacks, &Http2Callbacks::on_data_chunk_recv);
  nghttp2_session_callbacks_set_on_stream_close_callback(raw_callbacks, &Http2Callbacks::on_stream_close);
  nghttp2_session_callbacks_set_on_frame_send_callback(raw_callbacks, &Http2Callbacks::on_frame_send);
  nghttp2_session_callbacks_set_on_frame_not_send_callback(raw_callbacks, &Http2Callbacks::on_frame_not_send);
  nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(raw_callbacks, &Http2Callbacks::on_invalid_frame_recv);
  nghttp2_session_callbacks_set_error_callback2(raw_callbacks, &Http2Callbacks::on_error);

  nghttp2_option* raw_option = nullptr;
  if (nghttp2_option_new(&raw_option) != 0) return false;
  std::unique_ptr<nghttp2_option, void (*)(nghttp2_option*)> option(raw_option, &nghttp2_option_del);
  nghttp2_option_set_no_auto_window_update(raw_option, 1);  // consume() acknowledges what handlers read
  nghttp2_option_set_max_send_header_block_length(raw_option, kMaxSendHeaderBlock);
  nghttp2_option_set_no_closed_streams(raw_option, 1);

  nghttp2_session* raw_session = nullptr;
  if (nghttp2_session_server_new2(&raw_session, raw_callbacks, this, raw_option) != 0) return false;
  session_.reset(raw_session);

  const auto& l = ctx_.limits;
  constexpr std::uint32_t kMaxWindow = std::numeric_limits<std::int32_t>::max();
  // SETTINGS_MAX_HEADER_LIST_SIZE counts 32 bytes per field; advertise what our own accounting admits.
  const auto max_list =
      std::min<std::size_t>(l.header_bytes + 32 * (l.header_count + 8), std::numeric_limits<std::uint32_t>::max());
  const nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, l.h2_max_concurrent_streams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, std::min(l.h2_stream_window, kMaxWindow)},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, static_cast<std::uint32_t>(max_list)},
  };
  if (nghttp2_submit_settings(raw_session, NGHTTP2_FLAG_NONE, settings, std::size(settings)) != 0) return false;
  if (nghttp2_session_set_local_window_size(raw_session, NGHTTP2_FLAG_NONE, 0,
                                            static_cast<std::int32_t>(std::min(l.h2_connection_window, kMaxWindow))) !=
      0) {
    return false;
  }
  return true;
}

void Http2Connection::submit_continue(Http2Stream& st) {
  const nghttp2_nv nv = make_nv(":status", "100");
  nghttp2_submit_headers(session_.get(), NGHTTP2_FLAG_NONE, st.id, nullptr, &nv, 1, nullptr);
  wake_writer();
}

error_code Http2Connection::submit_response(Http2Stream& st, unsigned status, const Headers& headers, bool with_body) {
  if (auto ec = stream_error(st)) return ec;
  const std::string status_text = std::to_string(status);
  std::vector<std::string> names;
  names.reserve(headers.size());
  std::vector<nghttp2_nv> nva;
  nva.reserve(headers.size() + 1);
  nva.push_back(make_nv(":status", status_text));
  for (const auto& [name, value] : headers) {
    std::string lower = to_lower(name);
    if (is_connection_specific(lower)) continue;
    if (lower == "content-length" && (status == 204 || status < 200)) continue;
    names.push_back(std::move(lower));
    nva.push_back(make_nv(names.back(), value));
  }
  nghttp2_data_provider provider{};
  provider.read_callback = &Http2Callbacks::read_body;
  const int rv =
      nghttp2_submit_response(session_.get(), st.id, nva.data(), nva.size(), with_body ? &provider : nullptr);
  if (rv != 0) {
    spdlog::debug("h2 stream {}: response not submitted: {}", st.id, nghttp2_strerror(rv));
    reset_stream(st, NGHTTP2_INTERNAL_ERROR, asio::error::invalid_argument);
    return asio::error::invalid_argument;
  }
  st.response_submitted = true;
  if (!with_body) st.out_eof = true;
  wake_writer();
  return {};
}

}  // namespace kvsd::http
