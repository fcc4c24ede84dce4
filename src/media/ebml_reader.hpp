#pragma once
// EBML primitives for the sans-I/O Matroska parsers: variable-length integers (element IDs of
// 1-4 bytes, sizes of 1-8 bytes including every unknown-size form), an incremental element-header
// reader that buffers at most one header (12 bytes), value decoders, and a child iterator over a
// fully buffered master element.
//
// Nothing here allocates; nothing throws. Invalid input is reported as ReadStatus::invalid and it
// is up to the caller to map it to its own error.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace kvsd::media::ebml {

inline constexpr std::size_t kMaxIdLength = 4;
inline constexpr std::size_t kMaxSizeLength = 8;
inline constexpr std::size_t kMaxHeaderLength = kMaxIdLength + kMaxSizeLength;

enum class ReadStatus : std::uint8_t { complete, need_more, invalid };

// Length in bytes (1..8) of a variable-length integer from its first byte, 0 when the first byte
// is 0x00 (a length over 8, not valid EBML).
[[nodiscard]] constexpr std::size_t vint_length(std::uint8_t first) noexcept {
  if (first == 0) return 0;
  std::size_t length = 1;
  for (std::uint8_t mask = 0x80; (first & mask) == 0; mask = static_cast<std::uint8_t>(mask >> 1)) ++length;
  return length;
}

struct ElementHeader {
  std::uint32_t id = 0;        // with its length marker, as usually written (0x1A45DFA3, 0xA3...)
  std::uint64_t size = 0;      // payload size; meaningless when unknown_size
  bool unknown_size = false;   // all value bits of the size field were 1
  std::uint8_t id_length = 0;  // bytes of the ID field
  std::uint8_t length = 0;     // bytes of ID + size field
};

// Decodes an element ID at the start of `bytes`. IDs longer than 4 bytes and the reserved IDs
// (all value bits 0 or all 1) are invalid.
ReadStatus decode_id(std::span<const std::uint8_t> bytes, std::uint32_t& id, std::size_t& length) noexcept;

// Decodes an element size at the start of `bytes`; all value bits 1 (any length) is unknown size.
ReadStatus decode_size(std::span<const std::uint8_t> bytes, std::uint64_t& size, bool& unknown,
                       std::size_t& length) noexcept;

// Decodes a whole element header (ID + size) at the start of `bytes`.
ReadStatus decode_header(std::span<const std::uint8_t> bytes, ElementHeader& header) noexcept;

// Decodes a plain EBML varint (as used for track numbers in blocks): value bits only.
ReadStatus decode_vint(std::span<const std::uint8_t> bytes, std::uint64_t& value, std::size_t& length) noexcept;

// Incremental element-header reader. feed() takes bytes until one header is complete, copying
// only the header bytes (at most 12) into its own storage; raw() then holds them as received.
class ElementHeaderReader {
 public:
  struct Step {
    std::size_t consumed = 0;
    ReadStatus status = ReadStatus::need_more;
  };

  // Consumes at most the bytes that belong to the current header.
  Step feed(std::span<const std::uint8_t> bytes) noexcept;
  // Valid after feed() returned complete.
  [[nodiscard]] const ElementHeader& header() const noexcept { return header_; }
  [[nodiscard]] std::span<const std::uint8_t> raw() const noexcept { return {bytes_.data(), filled_}; }
  // True when some bytes of a header were taken but the header is not complete yet.
  [[nodiscard]] bool partial() const noexcept { return filled_ != 0 && !done_; }
  void reset() noexcept {
    filled_ = 0;
    needed_ = 1;
    done_ = false;
  }

 private:
  std::array<std::uint8_t, kMaxHeaderLength> bytes_{};
  std::size_t filled_ = 0;
  std::size_t needed_ = 1;  // bytes known to be needed so far
  bool done_ = false;
  ElementHeader header_;
};

// Unsigned integer payload (0..8 bytes, big-endian); nullopt when longer than 8.
[[nodiscard]] std::optional<std::uint64_t> read_uint(std::span<const std::uint8_t> payload) noexcept;
// Signed integer payload (0..8 bytes, two's complement).
[[nodiscard]] std::optional<std::int64_t> read_int(std::span<const std::uint8_t> payload) noexcept;
// Float payload: 0 (value 0), 4 or 8 bytes; nullopt otherwise.
[[nodiscard]] std::optional<double> read_float(std::span<const std::uint8_t> payload) noexcept;
// String payload, up to the first NUL (EBML strings may be zero-padded).
[[nodiscard]] std::string_view read_string(std::span<const std::uint8_t> payload) noexcept;

// Iterates the children of a fully buffered master element payload. next() yields each child's
// header and payload; invalid for a bad header, an unknown size, or a child that overruns the
// payload (the iterator then stays invalid).
class ChildIterator {
 public:
  enum class Next : std::uint8_t { child, end, invalid };
  explicit ChildIterator(std::span<const std::uint8_t> payload) noexcept : payload_(payload) {}
  Next next(ElementHeader& header, std::span<const std::uint8_t>& child_payload) noexcept;
  [[nodiscard]] std::size_t offset() const noexcept { return offset_; }

 private:
  std::span<const std::uint8_t> payload_;
  std::size_t offset_ = 0;
};

}  // namespace kvsd::media::ebml
