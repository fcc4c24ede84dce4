#include "media/mp4_layout.hpp"

#include <algorithm>
#include <array>
#include <cstring>

namespace kvsd::media {
namespace {

struct Box {
  std::size_t offset = 0;  // of the box header
  std::size_t header = 0;  // 8, or 16 with a 64-bit size
  std::size_t size = 0;    // whole box
  std::array<char, 4> type{};
};

std::uint64_t read_be(std::span<const std::uint8_t> b, std::size_t at, std::size_t width) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < width; ++i) v = (v << 8) | b[at + i];
  return v;
}

void write_be(std::span<std::uint8_t> b, std::size_t at, std::size_t width, std::uint64_t v) {
  for (std::size_t i = width; i-- > 0;) {
    b[at + i] = static_cast<std::uint8_t>(v);
    v >>= 8;
  }
}

bool is(const Box& box, const char (&type)[5]) { return std::memcmp(box.type.data(), type, 4) == 0; }

// The boxes directly inside bytes[begin, end); nullopt when one overruns the range.
std::optional<std::vector<Box>> list_boxes(std::span<const std::uint8_t> bytes, std::size_t begin, std::size_t end) {
  std::vector<Box> boxes;
  std::size_t at = begin;
  while (at < end) {
    if (end - at < 8) return std::nullopt;
    Box box;
    box.offset = at;
    box.header = 8;
    std::uint64_t size = read_be(bytes, at, 4);
    std::memcpy(box.type.data(), bytes.data() + at + 4, 4);
    if (size == 1) {
      if (end - at < 16) return std::nullopt;
      size = read_be(bytes, at + 8, 8);
      box.header = 16;
    } else if (size == 0) {
      size = end - at;  // extends to the end of its container
    }
    if (size < box.header || size > end - at) return std::nullopt;
    box.size = static_cast<std::size_t>(size);
    boxes.push_back(box);
    at += box.size;
  }
  return boxes;
}

// Raises every chunk offset in the stco/co64 boxes under `container` (moov, trak, mdia, minf, stbl).
bool shift_chunk_offsets(std::span<std::uint8_t> moov, const Box& container, std::uint64_t delta) {
  const auto children = list_boxes(moov, container.offset + container.header, container.offset + container.size);
  if (!children) return false;
  for (const Box& child : *children) {
    if (is(child, "trak") || is(child, "mdia") || is(child, "minf") || is(child, "stbl")) {
      if (!shift_chunk_offsets(moov, child, delta)) return false;
    } else if (is(child, "stco") || is(child, "co64")) {
      const std::size_t width = is(child, "stco") ? 4 : 8;
      const std::size_t body = child.offset + child.header;
      if (child.size - child.header < 8) return false;  // version/flags + entry_count
      const std::uint64_t count = read_be(moov, body + 4, 4);
      if (count > (child.size - child.header - 8) / width) return false;
      for (std::size_t i = 0; i < count; ++i) {
        const std::size_t at = body + 8 + i * width;
        const std::uint64_t offset = read_be(moov, at, width) + delta;
        if (width == 4 && offset > 0xFFFFFFFFull) return false;
        write_be(moov, at, width, offset);
      }
    }
  }
  return true;
}

}  // namespace

std::optional<std::vector<std::uint8_t>> move_moov_before_mdat(std::span<const std::uint8_t> mp4) {
  const auto boxes = list_boxes(mp4, 0, mp4.size());
  if (!boxes) return std::nullopt;
  const auto moov = std::find_if(boxes->begin(), boxes->end(), [](const Box& b) { return is(b, "moov"); });
  const auto mdat = std::find_if(boxes->begin(), boxes->end(), [](const Box& b) { return is(b, "mdat"); });
  if (moov == boxes->end() || mdat == boxes->end()) return std::nullopt;
  if (moov < mdat) return std::vector<std::uint8_t>(mp4.begin(), mp4.end());

  std::vector<std::uint8_t> moved(mp4.begin() + static_cast<std::ptrdiff_t>(moov->offset),
                                  mp4.begin() + static_cast<std::ptrdiff_t>(moov->offset + moov->size));
  Box root = *moov;
  root.offset = 0;
  if (!shift_chunk_offsets(moved, root, moov->size)) return std::nullopt;

  std::vector<std::uint8_t> out;
  out.reserve(mp4.size());
  for (auto box = boxes->begin(); box != boxes->end(); ++box) {
    if (box == moov) continue;
    if (box == mdat) out.insert(out.end(), moved.begin(), moved.end());
    out.insert(out.end(), mp4.begin() + static_cast<std::ptrdiff_t>(box->offset),
               mp4.begin() + static_cast<std::ptrdiff_t>(box->offset + box->size));
  }
  return out;
}

}  // namespace kvsd::media
