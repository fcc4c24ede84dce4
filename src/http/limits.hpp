#pragma once
// Limits: every bound the front end applies to network input. Values come from the config
// (section [limits] and [timeouts], see config/kvsd.toml); the defaults here are the documented ones.

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace kvsd::http {

struct Limits {
  std::size_t header_bytes = 16 * 1024;            // request line + headers (h1) / header block (h2); over: 431
  std::size_t header_count = 100;                  // header fields per request; over: 431
  std::size_t max_connections = 10000;             // open connections per server; at it: see net::ConnectionTracker
  std::size_t max_connections_per_address = 2000;  // open connections from one peer address; 0: no limit
  std::size_t json_body_bytes = 256 * 1024;        // a body read whole (signed JSON calls); over: 413 unread
  // A body must arrive at this average rate (bytes per second) over each body_stall_timeout spent
  // waiting for it; slower (a byte every few seconds) fails the read as a stall does.
  std::uint64_t body_min_rate = 256;
  std::uint32_t h2_max_concurrent_streams = 128;
  std::uint32_t h2_stream_window = 256 * 1024;            // request bytes buffered per h2 stream
  std::uint32_t h2_connection_window = 1024 * 1024;       // request bytes buffered per h2 connection
  std::chrono::milliseconds idle_timeout{60'000};         // no exchange in progress and no bytes
  std::chrono::milliseconds header_timeout{10'000};       // first byte of a request to end of its head
  std::chrono::milliseconds body_stall_timeout{30'000};   // a body read with no byte arriving
  std::chrono::milliseconds body_timeout{20'000};         // a body read whole: end of head to end of body
  std::chrono::milliseconds linger_timeout{5'000};        // draining unread request bytes before a close
  std::chrono::milliseconds write_stall_timeout{30'000};  // a response write with no byte leaving
  std::chrono::milliseconds tls_handshake_timeout{10'000};
};

}  // namespace kvsd::http
