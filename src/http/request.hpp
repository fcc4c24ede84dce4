#pragma once
// Request: the protocol-neutral view of one HTTP exchange's request side, produced by the
// HTTP/1.1 and HTTP/2 sessions alike. A Request and its body source live on the connection's
// strand and stay valid until the handler's coroutine returns.

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "http/headers.hpp"

namespace kvsd::http {

enum class Protocol { http1_1, http2 };
const char* to_string(Protocol p) noexcept;

// What a handler may need to know about the connection a request arrived on.
struct ConnectionInfo {
  bool tls = false;
  std::string local_address;  // numeric, as bound
  std::uint16_t local_port = 0;
  std::string remote_address;  // numeric
  std::uint16_t remote_port = 0;
  // Set (by the SigV4 guard) once a request on this connection proved it holds credentials: such
  // a connection is never closed to make room for a new one (net::ConnectionTracker). Null when
  // the connection is not tracked (tests).
  std::shared_ptr<std::atomic<bool>> authenticated;
};

struct BodyRead {
  std::size_t bytes = 0;         // 0 with no error: the body has ended
  boost::system::error_code ec;  // stall timeout, reset, malformed framing
};

// Incremental access to a request body. Implemented by each session.
class BodySource {
 public:
  virtual ~BodySource() = default;
  // Reads at least one byte into `buf` unless the body has ended or failed. Completes on the
  // connection's strand. Bytes not yet read are not acknowledged to the sender (HTTP/2 window,
  // TCP receive window), so a slow reader slows the sender.
  virtual boost::asio::awaitable<BodyRead> read_some(std::span<std::byte> buf) = 0;
  // Bounds the whole body's arrival: once `deadline` passes, reads fail with timed_out (and the
  // connection cannot carry another request). For bodies read whole; streams (PutMedia) have none.
  virtual void set_deadline(std::chrono::steady_clock::time_point deadline) = 0;
  // The body's declared length (HTTP/1.1 Content-Length, HTTP/2 content-length), when known.
  [[nodiscard]] virtual std::optional<std::uint64_t> declared_length() const = 0;
};

struct Request {
  std::string method;
  std::string target;     // raw request target as received
  std::string path;       // raw path part of target (before '?')
  std::string query;      // raw query part of target (after '?'), without the '?'
  std::string authority;  // HTTP/1.1 Host header or HTTP/2 :authority, verbatim
  Headers headers;        // regular fields only (no HTTP/2 pseudo-headers)
  Protocol protocol = Protocol::http1_1;
  std::shared_ptr<const ConnectionInfo> connection;
  BodySource* body = nullptr;  // never null while a handler runs
  std::string request_id;      // assigned by the dispatcher, echoed as x-amzn-RequestId

  // Reads the whole body into a string. Fails with `message_size` when it exceeds `max_bytes`
  // (at once, unread, when its declared length does) and with `timed_out` when it has not all
  // arrived within `within`.
  boost::asio::awaitable<BodyRead> read_all(std::string& out, std::size_t max_bytes, std::chrono::milliseconds within);
};

// Splits a raw target into path and query.
void split_target(const std::string& target, std::string& path, std::string& query);

}  // namespace kvsd::http
