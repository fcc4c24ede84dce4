#pragma once
// The ACK side of one PutMedia upload: the state the body reader, the store completions and the
// ACK writer share, and the writer itself, which sends each ACK as its own chunk (HTTP/1.1) or
// DATA frame ending its own TLS record (HTTP/2; docs/architecture.md, "ACK delivery"), IDLE while
// nothing happens, and ends the response once the upload is
// closing and every ACK is out.
//
// Threading: strand-affine; every member is touched only on the connection's strand (store
// completions are posted there).

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "api/put_media_request.hpp"
#include "exec/async_event.hpp"
#include "http/response_writer.hpp"

namespace kvsd::api {

// A fragment awaiting durability; PERSISTED ACKs leave in this order.
struct PendingPersist {
  std::uint64_t cluster_timecode = 0;
  // The number its ACKs carry; once done, the stored fragment's, which differs when the store
  // found this one a replay of it (two uploads of the same fragment racing).
  std::string fragment_number;
  bool done = false;
  bool failed = false;
};

// Shared between the reader, the writer and store completions. Strand-affine: every member is
// touched only on the connection's strand (store completions are posted there).
struct SessionState {
  explicit SessionState(const boost::asio::any_io_executor& ex) : executor(ex), writer_wake(ex), reader_wake(ex) {}

  boost::asio::any_io_executor executor;
  std::deque<std::string> acks;  // formatted, waiting for the writer
  exec::AsyncEvent writer_wake;
  exec::AsyncEvent reader_wake;
  std::deque<PendingPersist> pending;
  std::size_t in_flight = 0;  // persists not yet completed
  bool closing = false;       // no more ACKs will be queued except by completions in flight
  bool writer_done = false;
  bool writer_failed = false;  // the client is gone
  bool failed = false;         // an ERROR ACK was queued: stop reading
  std::chrono::steady_clock::time_point last_activity = std::chrono::steady_clock::now();

  void queue(const Ack& ack) {
    acks.push_back(format_ack(ack));
    writer_wake.notify();
  }
};

// Writes the session's ACKs until it is closing and they are all out, or the client is gone
// (writer_failed); then sets writer_done and wakes the reader.
boost::asio::awaitable<void> write_acks(std::shared_ptr<SessionState> st, http::ResponseWriter& w,
                                        std::chrono::milliseconds idle_interval);

}  // namespace kvsd::api
