#pragma once
// Helpers shared by the fuzz targets written after the first three: the invariant check that
// aborts (so libFuzzer and the corpus replay both report the input), and a reader that takes
// control bytes and '\n'-separated fields off the front of an input.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kvsd::fuzz {

inline void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz invariant violated: %s\n", what);
    std::abort();
  }
}

// Consumes an input from the front. Every take_* succeeds: past the end it yields zeros and
// empty strings, so any byte string is a valid input.
class InputReader {
 public:
  explicit InputReader(std::span<const std::uint8_t> data) : data_(data) {}

  std::uint8_t byte() { return pos_ < data_.size() ? data_[pos_++] : 0; }
  std::uint16_t u16() {
    const std::uint16_t hi = byte();
    return static_cast<std::uint16_t>(hi << 8 | byte());
  }
  std::uint64_t u64() {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = v << 8 | byte();
    return v;
  }
  // Up to the next '\n' (not included; consumed) or the end.
  std::string line() {
    std::string out;
    while (pos_ < data_.size() && data_[pos_] != '\n') out.push_back(static_cast<char>(data_[pos_++]));
    if (pos_ < data_.size()) ++pos_;
    return out;
  }
  // Everything not consumed yet.
  std::string_view rest() {
    const auto r = data_.subspan(pos_);
    pos_ = data_.size();
    return {reinterpret_cast<const char*>(r.data()), r.size()};
  }
  [[nodiscard]] bool empty() const { return pos_ >= data_.size(); }

 private:
  std::span<const std::uint8_t> data_;
  std::size_t pos_ = 0;
};

}  // namespace kvsd::fuzz
