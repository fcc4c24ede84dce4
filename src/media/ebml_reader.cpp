#include "media/ebml_reader.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

namespace kvsd::media::ebml {

ReadStatus decode_id(std::span<const std::uint8_t> bytes, std::uint32_t& id, std::size_t& length) noexcept {
  if (bytes.empty()) return ReadStatus::need_more;
  const std::size_t len = vint_length(bytes[0]);
  if (len == 0 || len > kMaxIdLength) return ReadStatus::invalid;
  if (bytes.size() < len) return ReadStatus::need_more;
  std::uint32_t value = 0;
  for (std::size_t i = 0; i < len; ++i) value = (value << 8) | bytes[i];
  // The value bits (without the length marker) must not be all 0 or all 1 (reserved).
  const std::uint32_t marker = 1u << (7 * len);
  const std::uint32_t bits = value & (marker - 1);
  if (bits == 0 || bits == marker - 1) return ReadStatus::invalid;
  id = value;
  length = len;
  return ReadStatus::complete;
}

ReadStatus decode_vint(std::span<const std::uint8_t> bytes, std::uint64_t& value, std::size_t& length) noexcept {
  if (bytes.empty()) return ReadStatus::need_more;
  const std::size_t len = vint_length(bytes[0]);
  if (len == 0) return ReadStatus::invalid;
  if (bytes.size() < len) return ReadStatus::need_more;
  std::uint64_t v = bytes[0] & ((0x80u >> (len - 1)) - 1u);
  for (std::size_t i = 1; i < len; ++i) v = (v << 8) | bytes[i];
  value = v;
  length = len;
  return ReadStatus::complete;
}

ReadStatus decode_size(std::span<const std::uint8_t> bytes, std::uint64_t& size, bool& unknown,
                       std::size_t& length) noexcept {
  std::uint64_t v = 0;
  std::size_t len = 0;
  const ReadStatus status = decode_vint(bytes, v, len);
  if (status != ReadStatus::complete) return status;
  const std::uint64_t all_ones = (std::uint64_t{1} << (7 * len)) - 1;
  unknown = v == all_ones;
  size = v;
  length = len;
  return ReadStatus::complete;
}

ReadStatus decode_header(std::span<const std::uint8_t> bytes, ElementHeader& header) noexcept {
  std::size_t id_len = 0;
  std::size_t size_len = 0;
  ReadStatus status = decode_id(bytes, header.id, id_len);
  if (status != ReadStatus::complete) return status;
  status = decode_size(bytes.subspan(id_len), header.size, header.unknown_size, size_len);
  if (status != ReadStatus::complete) return status;
  header.id_length = static_cast<std::uint8_t>(id_len);
  header.length = static_cast<std::uint8_t>(id_len + size_len);
  return ReadStatus::complete;
}

ElementHeaderReader::Step ElementHeaderReader::feed(std::span<const std::uint8_t> bytes) noexcept {
  Step step;
  while (!done_) {
    if (filled_ < needed_) {
      const std::size_t take = std::min(needed_ - filled_, bytes.size() - step.consumed);
      if (take == 0) return step;
      std::memcpy(bytes_.data() + filled_, bytes.data() + step.consumed, take);
      filled_ += take;
      step.consumed += take;
      if (filled_ < needed_) return step;
    }
    // Work out how many bytes the header needs from what is buffered so far.
    const std::size_t id_len = vint_length(bytes_[0]);
    if (id_len == 0 || id_len > kMaxIdLength) {
      step.status = ReadStatus::invalid;
      return step;
    }
    if (filled_ < id_len + 1) {
      needed_ = id_len + 1;
      continue;
    }
    const std::size_t size_len = vint_length(bytes_[id_len]);
    if (size_len == 0) {
      step.status = ReadStatus::invalid;
      return step;
    }
    if (filled_ < id_len + size_len) {
      needed_ = id_len + size_len;
      continue;
    }
    if (decode_header({bytes_.data(), filled_}, header_) != ReadStatus::complete) {
      step.status = ReadStatus::invalid;
      return step;
    }
    done_ = true;
  }
  step.status = ReadStatus::complete;
  return step;
}

std::optional<std::uint64_t> read_uint(std::span<const std::uint8_t> payload) noexcept {
  if (payload.size() > 8) return std::nullopt;
  std::uint64_t v = 0;
  for (const std::uint8_t b : payload) v = (v << 8) | b;
  return v;
}

std::optional<std::int64_t> read_int(std::span<const std::uint8_t> payload) noexcept {
  if (payload.size() > 8) return std::nullopt;
  if (payload.empty()) return 0;
  std::uint64_t v = (payload[0] & 0x80) != 0 ? ~std::uint64_t{0} : 0;
  for (const std::uint8_t b : payload) v = (v << 8) | b;
  return static_cast<std::int64_t>(v);
}

std::optional<double> read_float(std::span<const std::uint8_t> payload) noexcept {
  if (payload.empty()) return 0.0;
  if (payload.size() == 4) {
    const auto bits = static_cast<std::uint32_t>(*read_uint(payload));
    return static_cast<double>(std::bit_cast<float>(bits));
  }
  if (payload.size() == 8) return std::bit_cast<double>(*read_uint(payload));
  return std::nullopt;
}

std::string_view read_string(std::span<const std::uint8_t> payload) noexcept {
  const auto* begin = reinterpret_cast<const char*>(payload.data());
  const void* nul = payload.empty() ? nullptr : std::memchr(begin, 0, payload.size());
  const std::size_t len =
      nul == nullptr ? payload.size() : static_cast<std::size_t>(static_cast<const char*>(nul) - begin);
  return {begin, len};
}

ChildIterator::Next ChildIterator::next(ElementHeader& header, std::span<const std::uint8_t>& child_payload) noexcept {
  if (offset_ == payload_.size()) return Next::end;
  if (offset_ > payload_.size()) return Next::invalid;
  const auto rest = payload_.subspan(offset_);
  if (decode_header(rest, header) != ReadStatus::complete || header.unknown_size ||
      header.size > rest.size() - header.length) {
    offset_ = payload_.size() + 1;  // stays invalid
    return Next::invalid;
  }
  child_payload = rest.subspan(header.length, static_cast<std::size_t>(header.size));
  offset_ += header.length + static_cast<std::size_t>(header.size);
  return Next::child;
}

}  // namespace kvsd::media::ebml
