#include "http/chunked_decoder.hpp"

#include <algorithm>
#include <utility>

#include "kvs/hex.hpp"

namespace kvsd::http {

void ChunkedDecoder::fail(std::string why) {
  state_ = State::failed;
  error_ = std::move(why);
  line_.clear();
}

std::size_t ChunkedDecoder::take_line(std::span<const std::uint8_t> in, bool& complete) {
  const auto lf = std::find(in.begin(), in.end(), std::uint8_t{'\n'});
  complete = lf != in.end();
  const auto used = static_cast<std::size_t>(lf - in.begin()) + (complete ? 1 : 0);
  line_.append(reinterpret_cast<const char*>(in.data()), used);
  return used;
}

void ChunkedDecoder::end_size_line() {
  // line_ holds "<hex>[;ext]\r\n".
  if (line_.size() < 2 || line_[line_.size() - 2] != '\r') return fail("chunk size line does not end with CRLF");
  const std::string_view text(line_.data(), line_.size() - 2);
  std::uint64_t size = 0;
  std::size_t i = 0;
  for (; i < text.size(); ++i) {
    const int v = kvs::hex_digit_value(text[i]);
    if (v < 0) break;
    if (size > (kMaxChunkSize >> 4)) return fail("chunk size too large");
    size = (size << 4) | static_cast<std::uint64_t>(v);
  }
  if (i == 0) return fail("chunk size is not hexadecimal");
  if (size > kMaxChunkSize) return fail("chunk size too large");
  // What may follow the digits: optional whitespace, then extensions after ';' (ignored).
  std::size_t j = i;
  while (j < text.size() && (text[j] == ' ' || text[j] == '\t')) ++j;
  if (j < text.size() && text[j] != ';') return fail("unexpected character after the chunk size");
  line_.clear();
  if (size == 0) {
    state_ = State::trailer_line;
  } else {
    remaining_ = size;
    chunk_size_ = size;
    state_ = State::data;
  }
}

void ChunkedDecoder::end_trailer_line() {
  if (line_.size() < 2 || line_[line_.size() - 2] != '\r') return fail("trailer line does not end with CRLF");
  const bool empty = line_.size() == 2;
  line_.clear();
  if (empty) state_ = State::done;  // fields before it are ignored
}

void ChunkedDecoder::data_read(std::size_t n) noexcept {
  if (state_ != State::data) return;
  const auto take = std::min<std::uint64_t>(n, remaining_);
  remaining_ -= take;
  body_bytes_ += take;
  if (remaining_ == 0) state_ = State::data_cr;
}

ChunkedDecoder::Step ChunkedDecoder::feed(std::span<const std::uint8_t> in, std::size_t max_data) {
  Step step;
  std::size_t pos = 0;
  while (pos < in.size()) {
    const auto rest = in.subspan(pos);
    switch (state_) {
      case State::done:
      case State::failed:
        step.consumed = pos;
        return step;
      case State::size_line:
      case State::trailer_line: {
        // Never take more than one byte past the limit, so the error (and the memory used) does
        // not depend on how the input is split.
        const bool trailer = state_ == State::trailer_line;
        const std::size_t room = trailer ? kMaxTrailerBytes - trailer_bytes_ + 1 : kMaxLineBytes - line_.size() + 1;
        bool complete = false;
        const auto used = take_line(rest.first(std::min(rest.size(), room)), complete);
        pos += used;
        if (trailer) {
          trailer_bytes_ += used;
          if (trailer_bytes_ > kMaxTrailerBytes) {
            fail("trailer section exceeds the limit");
            break;
          }
        } else if (line_.size() > kMaxLineBytes) {
          fail("chunk size line exceeds the limit");
          break;
        }
        if (!complete) break;
        if (state_ == State::size_line) {
          end_size_line();
        } else {
          end_trailer_line();
        }
        break;
      }
      case State::data: {
        if (!step.data.empty() || max_data == 0) {
          step.consumed = pos;
          return step;  // one data run per call
        }
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>({remaining_, rest.size(), max_data}));
        step.data = rest.first(n);
        pos += n;
        data_read(n);
        break;
      }
      case State::data_cr:
      case State::data_lf: {
        const bool cr = state_ == State::data_cr;
        if (rest[0] != (cr ? '\r' : '\n')) {
          fail("chunk data is not followed by CRLF");
          break;
        }
        ++pos;
        state_ = cr ? State::data_lf : State::size_line;
        break;
      }
    }
  }
  step.consumed = pos;
  return step;
}

}  // namespace kvsd::http
