#include "media/nal_framing.hpp"

namespace kvsd::media {
namespace {

constexpr std::uint8_t kAvcSps = 7;
constexpr std::uint8_t kAvcPps = 8;
constexpr std::uint8_t kHevcVps = 32;
constexpr std::uint8_t kHevcSps = 33;
constexpr std::uint8_t kHevcPps = 34;
constexpr std::size_t kHvccFixedSize = 23;

std::uint64_t read_be(std::span<const std::uint8_t> bytes, std::size_t at, std::size_t width) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < width; ++i) v = (v << 8) | bytes[at + i];
  return v;
}

// Reads `count` parameter sets (16-bit length + NAL) at `at`; each must be non-empty and inside
// the record. Calls on_nal(first byte) for each. Advances `at`.
template <typename OnNal>
bool read_parameter_sets(std::span<const std::uint8_t> record, std::size_t& at, std::size_t count, OnNal on_nal) {
  for (std::size_t i = 0; i < count; ++i) {
    if (record.size() - at < 2) return false;
    const auto length = static_cast<std::size_t>(read_be(record, at, 2));
    at += 2;
    if (length == 0 || record.size() - at < length) return false;
    on_nal(record[at]);
    at += length;
  }
  return true;
}

}  // namespace

std::optional<std::size_t> avcc_nal_length_size(std::span<const std::uint8_t> record) {
  // version, profile, compatibility, level, 6 bits reserved + lengthSizeMinusOne,
  // 3 bits reserved + numOfSequenceParameterSets, then the SPSs, numOfPictureParameterSets, PPSs.
  if (record.size() < 7 || record[0] != 1) return std::nullopt;
  const std::size_t length_size = (record[4] & 0x03u) + 1u;
  if (length_size == 3) return std::nullopt;
  std::size_t at = 6;
  bool types_ok = true;
  const std::size_t sps_count = record[5] & 0x1Fu;
  if (sps_count == 0) return std::nullopt;
  if (!read_parameter_sets(record, at, sps_count, [&](std::uint8_t b) { types_ok &= (b & 0x1Fu) == kAvcSps; })) {
    return std::nullopt;
  }
  if (at >= record.size()) return std::nullopt;
  const std::size_t pps_count = record[at++];
  if (pps_count == 0) return std::nullopt;
  if (!read_parameter_sets(record, at, pps_count, [&](std::uint8_t b) { types_ok &= (b & 0x1Fu) == kAvcPps; })) {
    return std::nullopt;
  }
  // High profiles may append chroma/bit-depth fields and SPS extensions; they are not needed here.
  if (!types_ok) return std::nullopt;
  return length_size;
}

std::optional<std::size_t> hvcc_nal_length_size(std::span<const std::uint8_t> record) {
  if (record.size() < kHvccFixedSize || record[0] != 1) return std::nullopt;
  const std::size_t length_size = (record[21] & 0x03u) + 1u;
  if (length_size == 3) return std::nullopt;
  const std::size_t arrays = record[22];
  std::size_t at = kHvccFixedSize;
  bool vps = false, sps = false, pps = false;
  for (std::size_t i = 0; i < arrays; ++i) {
    if (record.size() - at < 3) return std::nullopt;
    const std::uint8_t type = record[at] & 0x3Fu;
    const auto count = static_cast<std::size_t>(read_be(record, at + 1, 2));
    at += 3;
    bool types_ok = true;
    // The NAL header's type (bits 1..6 of its first byte) must match the array's type.
    if (!read_parameter_sets(record, at, count, [&](std::uint8_t b) { types_ok &= ((b >> 1) & 0x3Fu) == type; })) {
      return std::nullopt;
    }
    if (!types_ok) return std::nullopt;
    if (count > 0) {
      vps |= type == kHevcVps;
      sps |= type == kHevcSps;
      pps |= type == kHevcPps;
    }
  }
  if (!vps || !sps || !pps) return std::nullopt;
  return length_size;
}

bool is_length_prefixed(std::span<const std::uint8_t> frame, std::size_t length_size) {
  if (frame.empty() || length_size == 0 || length_size > 4) return false;
  std::size_t at = 0;
  while (at < frame.size()) {
    if (frame.size() - at < length_size) return false;
    const std::uint64_t length = read_be(frame, at, length_size);
    at += length_size;
    if (length == 0 || length > frame.size() - at) return false;
    at += static_cast<std::size_t>(length);
  }
  return true;
}

bool starts_with_start_code(std::span<const std::uint8_t> frame) {
  if (frame.size() >= 3 && frame[0] == 0 && frame[1] == 0 && frame[2] == 1) return true;
  return frame.size() >= 4 && frame[0] == 0 && frame[1] == 0 && frame[2] == 0 && frame[3] == 1;
}

std::optional<std::vector<std::uint8_t>> annex_b_to_length_prefixed(std::span<const std::uint8_t> frame,
                                                                    std::size_t length_size) {
  if (length_size == 0 || length_size > 4) return std::nullopt;
  // Offsets just past each 00 00 01.
  std::vector<std::size_t> starts;
  for (std::size_t i = 0; i + 2 < frame.size(); ++i) {
    if (frame[i] == 0 && frame[i + 1] == 0 && frame[i + 2] == 1) {
      starts.push_back(i + 3);
      i += 2;
    }
  }
  if (starts.empty()) return std::nullopt;
  const std::uint64_t max_length = length_size == 4 ? 0xFFFFFFFFull : (1ull << (8 * length_size)) - 1;
  std::vector<std::uint8_t> out;
  out.reserve(frame.size() + starts.size() * length_size);
  for (std::size_t n = 0; n < starts.size(); ++n) {
    const std::size_t begin = starts[n];
    std::size_t end = n + 1 < starts.size() ? starts[n + 1] - 3 : frame.size();
    while (end > begin && frame[end - 1] == 0) --end;  // trailing_zero_8bits / a 4-byte start code
    if (end == begin) continue;
    const std::uint64_t length = end - begin;
    if (length > max_length) return std::nullopt;
    for (std::size_t i = length_size; i-- > 0;) out.push_back(static_cast<std::uint8_t>(length >> (8 * i)));
    out.insert(out.end(), frame.begin() + static_cast<std::ptrdiff_t>(begin),
               frame.begin() + static_cast<std::ptrdiff_t>(end));
  }
  if (out.empty()) return std::nullopt;
  return out;
}

}  // namespace kvsd::media
