#include "media/stream_header_parts.hpp"

namespace kvsd::media {

void StreamHeaderParts::set(Part part, std::span<const std::uint8_t> bytes) {
  parts_[index(part)].assign(bytes.begin(), bytes.end());
  if (part == Part::info || part == Part::tracks) changed_ = true;
}

void StreamHeaderParts::clear() {
  for (auto& p : parts_) p.clear();
  reported_ = changed_ = false;
}

std::uint64_t StreamHeaderParts::size_without(Part part) const {
  std::uint64_t total = 0;
  for (const auto& p : parts_) total += p.size();
  return total - parts_[index(part)].size();
}

void StreamHeaderParts::assemble(std::vector<std::uint8_t>& out) {
  std::size_t total = 0;
  for (const auto& p : parts_) total += p.size();
  out.clear();
  out.reserve(total);
  for (const auto& p : parts_) out.insert(out.end(), p.begin(), p.end());
  reported_ = true;
  changed_ = false;
}

}  // namespace kvsd::media
