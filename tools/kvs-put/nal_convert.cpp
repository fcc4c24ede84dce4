#include "nal_convert.hpp"

namespace kvsput {

bool is_annex_b(std::span<const std::uint8_t> d) noexcept {
  return (d.size() >= 3 && d[0] == 0 && d[1] == 0 && d[2] == 1) ||
         (d.size() >= 4 && d[0] == 0 && d[1] == 0 && d[2] == 0 && d[3] == 1);
}

std::vector<std::span<const std::uint8_t>> split_annex_b(std::span<const std::uint8_t> d) {
  std::vector<std::span<const std::uint8_t>> out;
  std::size_t i = 0;
  std::size_t start = std::size_t(-1);
  auto emit = [&](std::size_t end) {
    if (start == std::size_t(-1)) return;
    while (end > start && d[end - 1] == 0) --end;  // zero bytes before the next start code
    if (end > start) out.push_back(d.subspan(start, end - start));
  };
  while (i + 2 < d.size()) {
    if (d[i] == 0 && d[i + 1] == 0 && d[i + 2] == 1) {
      emit(i);
      i += 3;
      start = i;
      continue;
    }
    ++i;
  }
  emit(d.size());
  return out;
}

Bytes annex_b_to_length_prefixed(std::span<const std::uint8_t> data) {
  Bytes out;
  out.reserve(data.size() + 16);
  for (auto nal : split_annex_b(data)) {
    const auto n = static_cast<std::uint32_t>(nal.size());
    out.push_back(static_cast<std::uint8_t>(n >> 24));
    out.push_back(static_cast<std::uint8_t>(n >> 16));
    out.push_back(static_cast<std::uint8_t>(n >> 8));
    out.push_back(static_cast<std::uint8_t>(n));
    out.insert(out.end(), nal.begin(), nal.end());
  }
  return out;
}

std::optional<Bytes> avcc_from_annex_b(std::span<const std::uint8_t> data) {
  std::vector<std::span<const std::uint8_t>> sps, pps;
  for (auto nal : split_annex_b(data)) {
    const int type = nal[0] & 0x1F;
    if (type == 7) sps.push_back(nal);
    if (type == 8) pps.push_back(nal);
  }
  if (sps.empty() || pps.empty() || sps[0].size() < 4 || sps.size() > 31 || pps.size() > 255) return std::nullopt;
  Bytes out = {1, sps[0][1], sps[0][2], sps[0][3], 0xFF, static_cast<std::uint8_t>(0xE0 | sps.size())};
  auto put = [&](std::span<const std::uint8_t> nal) {
    out.push_back(static_cast<std::uint8_t>(nal.size() >> 8));
    out.push_back(static_cast<std::uint8_t>(nal.size()));
    out.insert(out.end(), nal.begin(), nal.end());
  };
  for (auto s : sps) put(s);
  out.push_back(static_cast<std::uint8_t>(pps.size()));
  for (auto p : pps) put(p);
  return out;
}

}  // namespace kvsput
