#pragma once
// A minimal ISO BMFF box writer appending big-endian fields to a caller-owned byte vector. Boxes
// are opened with begin()/begin_full() and closed with end(), which writes the 32-bit size.
// No allocation beyond the vector's growth (reserve it for one allocation). Not thread-safe; one
// writer per output.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace kvsd::media::playback {

class BoxWriter {
 public:
  explicit BoxWriter(std::vector<std::uint8_t>& out) noexcept : out_(out) {}

  // Opens a box of four-character `type`; returns its offset for end().
  std::size_t begin(const char (&type)[5]) {
    const std::size_t at = out_.size();
    u32(0);
    fourcc(type);
    return at;
  }
  std::size_t begin_full(const char (&type)[5], std::uint8_t version, std::uint32_t flags) {
    const std::size_t at = begin(type);
    u32((std::uint32_t{version} << 24) | (flags & 0xFFFFFFu));
    return at;
  }
  void end(std::size_t at) { patch32(at, static_cast<std::uint32_t>(out_.size() - at)); }

  void u8(std::uint8_t v) { out_.push_back(v); }
  void u16(std::uint16_t v) {
    u8(static_cast<std::uint8_t>(v >> 8));
    u8(static_cast<std::uint8_t>(v));
  }
  void u24(std::uint32_t v) {
    u8(static_cast<std::uint8_t>(v >> 16));
    u16(static_cast<std::uint16_t>(v));
  }
  void u32(std::uint32_t v) {
    const std::uint8_t b[4] = {static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16),
                               static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
    out_.insert(out_.end(), b, b + 4);
  }
  void u64(std::uint64_t v) {
    u32(static_cast<std::uint32_t>(v >> 32));
    u32(static_cast<std::uint32_t>(v));
  }
  void fourcc(const char (&type)[5]) { out_.insert(out_.end(), type, type + 4); }
  void bytes(std::span<const std::uint8_t> b) { out_.insert(out_.end(), b.begin(), b.end()); }
  void zeros(std::size_t n) { out_.insert(out_.end(), n, 0); }
  void patch32(std::size_t at, std::uint32_t v) {
    out_[at] = static_cast<std::uint8_t>(v >> 24);
    out_[at + 1] = static_cast<std::uint8_t>(v >> 16);
    out_[at + 2] = static_cast<std::uint8_t>(v >> 8);
    out_[at + 3] = static_cast<std::uint8_t>(v);
  }
  // Reserves `n` bytes at the end and returns where they start (for in-place writers).
  std::uint8_t* extend(std::size_t n) {
    const std::size_t at = out_.size();
    out_.resize(at + n);
    return out_.data() + at;
  }
  [[nodiscard]] std::size_t size() const noexcept { return out_.size(); }

 private:
  std::vector<std::uint8_t>& out_;
};

}  // namespace kvsd::media::playback
