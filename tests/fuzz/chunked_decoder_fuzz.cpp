// libFuzzer target for ChunkedDecoder. The input is a chunked body (possibly followed by other
// bytes); it is fed whole, in 1-byte pieces, and in pieces of sizes taken from the input itself
// with a small max_data and with direct reads mixed in (while in_data(), the target copies up to
// k body bytes out of the input itself and reports them with data_read()).
// Oracle: the decoded data, done(), failed(), the number of input bytes used (fed and read
// directly) and body_bytes() do not depend on how the input is split or read; body_bytes() equals
// the decoded size; each data run lies inside the consumed range and respects max_data; a decoder
// that is neither done nor failed has used all the input it was given; after done() or failed(),
// feed() consumes nothing and hands back no data.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "http/chunked_decoder.hpp"

namespace {

using kvsd::http::ChunkedDecoder;

constexpr std::size_t kNoLimit = std::numeric_limits<std::size_t>::max();

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz invariant violated: %s\n", what);
    std::abort();
  }
}

struct Outcome {
  std::string data;
  std::size_t used = 0;
  std::uint64_t body_bytes = 0;
  bool done = false;
  bool failed = false;

  bool operator==(const Outcome&) const = default;
};

struct Mode {
  std::vector<std::size_t> pieces;  // sizes in which the input arrives (cycled); empty = whole
  std::size_t max_data = kNoLimit;
  std::size_t direct = 0;  // bytes per direct read; 0 = never read directly
};

Outcome run(std::span<const std::uint8_t> input, const Mode& mode) {
  ChunkedDecoder decoder;
  Outcome out;
  std::size_t pos = 0;      // first input byte not used yet
  std::size_t arrived = 0;  // input bytes delivered so far
  std::size_t piece = 0;
  bool direct_turn = true;  // alternates direct reads with fed data runs
  while (arrived < input.size()) {
    const std::size_t n = mode.pieces.empty()
                              ? input.size()
                              : std::min(mode.pieces[piece++ % mode.pieces.size()], input.size() - arrived);
    arrived += n;
    for (;;) {
      check(!decoder.in_data() || decoder.data_remaining() > 0, "in_data() implies data_remaining() > 0");
      if (mode.direct > 0 && decoder.in_data() && pos < arrived && direct_turn) {
        const auto k =
            static_cast<std::size_t>(std::min<std::uint64_t>({mode.direct, decoder.data_remaining(), arrived - pos}));
        out.data.append(reinterpret_cast<const char*>(input.data() + pos), k);
        decoder.data_read(k);
        pos += k;
        direct_turn = false;
        continue;
      }
      direct_turn = true;
      const auto avail = input.subspan(pos, arrived - pos);
      const auto step = decoder.feed(avail, mode.max_data);
      check(step.consumed <= avail.size(), "consumed fits the input");
      check(step.data.size() <= mode.max_data, "a data run respects max_data");
      if (!step.data.empty()) {
        check(step.data.data() >= avail.data() && step.data.data() + step.data.size() <= avail.data() + step.consumed,
              "a data run lies inside the consumed range");
      }
      if (step.consumed == 0) {
        check(step.data.empty(), "no data without consuming");
        break;
      }
      out.data.append(reinterpret_cast<const char*>(step.data.data()), step.data.size());
      pos += step.consumed;
    }
  }
  out.used = pos;
  out.body_bytes = decoder.body_bytes();
  out.done = decoder.done();
  out.failed = decoder.failed();
  check(!(out.done && out.failed), "done and failed exclude each other");
  check(out.body_bytes == out.data.size(), "body_bytes() counts the decoded data");
  check(out.failed == !decoder.error().empty(), "an error message exactly when failed");
  if (!out.done && !out.failed) check(out.used == input.size(), "an unfinished decoder uses all its input");
  if (out.done || out.failed) {
    const std::uint8_t more[] = {'1', '\r', '\n', 'x', '\r', '\n', '0', '\r', '\n', '\r', '\n'};
    const auto step = decoder.feed(more, kNoLimit);
    check(step.consumed == 0 && step.data.empty(), "nothing is consumed after done() or failed()");
    check(decoder.done() == out.done && decoder.failed() == out.failed, "done() and failed() are final");
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> input(data, size);
  const Outcome whole = run(input, {});
  check(run(input, {{1}, kNoLimit, 0}) == whole, "1-byte pieces give the same outcome");
  check(run(input, {{}, 1, 0}) == whole, "max_data 1 gives the same outcome");
  if (size == 0) return 0;
  Mode mode;
  for (std::size_t i = 0; i < size && mode.pieces.size() < 16; i += 97) mode.pieces.push_back(1 + data[i] % 61);
  mode.max_data = 1 + data[size - 1] % 13;
  check(run(input, mode) == whole, "input-driven pieces give the same outcome");
  mode.direct = 1 + data[size / 2] % 11;
  check(run(input, mode) == whole, "direct reads give the same outcome");
  mode.max_data = kNoLimit;
  check(run(input, mode) == whole, "direct reads with unlimited runs give the same outcome");
  return 0;
}
