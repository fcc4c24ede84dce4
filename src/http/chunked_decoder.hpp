#pragma once
// ChunkedDecoder: a sans-I/O decoder of an HTTP/1.1 chunked request body (RFC 9112 section 7.1).
//
// It exists so that a large body can be read from the socket straight into the consumer's
// buffer: while the decoder is inside a chunk's data (in_data()), the caller may read up to
// data_remaining() bytes from the transport directly into its own buffer and report them with
// data_read(); framing (size lines, the CRLF after each chunk, the trailer section) goes
// through feed(). Bytes already buffered go through feed() too, which hands back the data part
// as a subspan of its input.
//
// Contract:
// - feed() consumes framing and at most one run of data bytes (never more than max_data), and
//   stops at the first byte it does not need: after the final CRLF of the trailer section it
//   consumes nothing more, so what follows (a pipelined request) stays with the caller.
// - Chunk extensions and trailer fields are read and ignored.
// - Lines end with CRLF; a bare LF, a non-hex size, a size over kMaxChunkSize, a size line over
//   kMaxLineBytes or a trailer section over kMaxTrailerBytes fails the decoder for good.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace kvsd::http {

class ChunkedDecoder {
 public:
  static constexpr std::size_t kMaxLineBytes = 4096;      // a chunk-size line, extensions included
  static constexpr std::size_t kMaxTrailerBytes = 16384;  // the whole trailer section
  static constexpr std::uint64_t kMaxChunkSize = 1ull << 40;

  struct Step {
    std::size_t consumed = 0;            // input bytes used, framing and data
    std::span<const std::uint8_t> data;  // body bytes inside the consumed range (may be empty)
  };

  Step feed(std::span<const std::uint8_t> in, std::size_t max_data);

  // Inside a chunk's data: the caller may read up to data_remaining() body bytes itself.
  [[nodiscard]] bool in_data() const noexcept { return state_ == State::data; }
  [[nodiscard]] std::uint64_t data_remaining() const noexcept { return remaining_; }
  // Reports n <= data_remaining() body bytes the caller read directly.
  void data_read(std::size_t n) noexcept;

  [[nodiscard]] bool done() const noexcept { return state_ == State::done; }
  [[nodiscard]] bool failed() const noexcept { return state_ == State::failed; }
  [[nodiscard]] const std::string& error() const noexcept { return error_; }
  [[nodiscard]] std::uint64_t body_bytes() const noexcept { return body_bytes_; }
  // The size of the chunk being read, or of the last one (0 before the first).
  [[nodiscard]] std::uint64_t chunk_size() const noexcept { return chunk_size_; }

 private:
  enum class State { size_line, data, data_cr, data_lf, trailer_line, done, failed };

  // Appends to line_ up to and including LF; returns bytes used and whether the line is complete.
  std::size_t take_line(std::span<const std::uint8_t> in, bool& complete);
  void end_size_line();
  void end_trailer_line();
  void fail(std::string why);

  State state_ = State::size_line;
  std::uint64_t remaining_ = 0;
  std::uint64_t chunk_size_ = 0;
  std::uint64_t body_bytes_ = 0;
  std::size_t trailer_bytes_ = 0;
  std::string line_;
  std::string error_;
};

}  // namespace kvsd::http
