#pragma once
// StreamHeaderParts: the raw pieces of the stream header in force (EBML header, Segment header,
// Info, Tracks, each byte for byte as received) and whether a changed header still has to be
// reported. Owned by one parser; no threading.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace kvsd::media {

class StreamHeaderParts {
 public:
  enum class Part : std::uint8_t { ebml, segment, info, tracks };

  // Replaces one part; Info and Tracks mark the header as changed.
  void set(Part part, std::span<const std::uint8_t> bytes);
  // Forgets everything (a new EBML header starts a new document).
  void clear();
  // Bytes of all parts except `part`: what remains when `part` is replaced.
  [[nodiscard]] std::uint64_t size_without(Part part) const;
  // EBML header + Segment header + Info + Tracks, concatenated into `out`; marks it reported.
  void assemble(std::vector<std::uint8_t>& out);

  [[nodiscard]] bool has(Part part) const noexcept { return !parts_[index(part)].empty(); }
  // True when no header was reported yet or Info/Tracks changed since the last report.
  [[nodiscard]] bool needs_report() const noexcept { return !reported_ || changed_; }

 private:
  static constexpr std::size_t index(Part part) noexcept { return static_cast<std::size_t>(part); }
  std::array<std::vector<std::uint8_t>, 4> parts_;  // in Part order, which is the header order
  bool reported_ = false;
  bool changed_ = false;
};

}  // namespace kvsd::media
