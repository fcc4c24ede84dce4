#pragma once
// ResponseWriter: the protocol-neutral response side of one exchange.
//
// Contract: start() exactly once, then any number of write() calls, then finish(); or send()
// once for a complete response. All calls run on the connection's strand and each must complete
// before the next is made. write() completes only when the transport can take more, which is
// how a slow client slows a producing handler. Without a Content-Length header the body is
// streamed (chunked on HTTP/1.1, DATA frames on HTTP/2); each write() is sent as one chunk.
// Once an error is returned the exchange is dead and further calls fail at once.

#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/headers.hpp"

namespace kvsd::http {

// `size` body bytes at `offset` of the open file `fd`, which stays open until write_file completes.
struct FileRange {
  int fd = -1;
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
};

class ResponseWriter {
 public:
  virtual ~ResponseWriter() = default;

  boost::asio::awaitable<boost::system::error_code> start(unsigned status, Headers headers);
  boost::asio::awaitable<boost::system::error_code> write(std::string_view data);
  // Like write() with the file's bytes (one chunk on HTTP/1.1). Cleartext HTTP/1.1 sends them
  // with sendfile, never copying them through user space; other transports read them in pieces.
  // The bytes should be in the page cache (FragmentStore::open_clusters): reading them here
  // blocks the I/O thread otherwise. A file shorter than the range is an I/O error.
  boost::asio::awaitable<boost::system::error_code> write_file(FileRange range);
  boost::asio::awaitable<boost::system::error_code> finish();
  // start + write + finish with a Content-Length, in as few transport writes as possible.
  boost::asio::awaitable<boost::system::error_code> send(unsigned status, Headers headers, std::string body);

  // Asks that from now on each write() reach the peer in a receive of its own, as far as the
  // transport can promise it: on HTTP/1.1 each write is one chunk (HTTP clients hand a chunk's
  // data to the application on its own); on HTTP/2 each write is one DATA frame that also ends
  // the socket write, so over TLS no record carries the end of two writes. Costs a TLS record and
  // a socket write per write(); meant for small event streams (PutMedia's ACKs, whose stock
  // client parses only one complete ACK per receive callback). Cleartext HTTP/2 has no record
  // boundary for a reader to stop at: there the frames are merely written separately.
  void deliver_writes_separately() { do_deliver_writes_separately(); }

  // Headers merged into every response this writer starts (CORS, request id); set by the dispatcher.
  void set_default_headers(Headers h) { defaults_ = std::move(h); }

  [[nodiscard]] bool started() const noexcept { return status_ != 0; }
  [[nodiscard]] bool finished() const noexcept { return finished_; }
  [[nodiscard]] unsigned status() const noexcept { return status_; }
  [[nodiscard]] std::uint64_t body_bytes() const noexcept { return body_bytes_; }

 protected:
  virtual boost::asio::awaitable<boost::system::error_code> do_start(unsigned status, const Headers& headers,
                                                                     bool has_content_length) = 0;
  virtual boost::asio::awaitable<boost::system::error_code> do_write(std::string_view data) = 0;
  virtual boost::asio::awaitable<boost::system::error_code> do_finish() = 0;
  // Default: pread in pieces, each passed to do_write.
  virtual boost::asio::awaitable<boost::system::error_code> do_write_file(FileRange range);
  // Default: nothing (HTTP/1.1 already sends one chunk per write).
  virtual void do_deliver_writes_separately() {}
  // Default: start, write, finish. Sessions override to coalesce.
  virtual boost::asio::awaitable<boost::system::error_code> do_send(unsigned status, const Headers& headers,
                                                                    std::string body);

 private:
  Headers merged(Headers headers) const;
  // After a body write of `bytes`: a failure kills the exchange, a success counts the bytes.
  boost::system::error_code counted(boost::system::error_code ec, std::uint64_t bytes);

  Headers defaults_;
  unsigned status_ = 0;
  bool finished_ = false;
  bool failed_ = false;
  std::uint64_t body_bytes_ = 0;
};

}  // namespace kvsd::http
