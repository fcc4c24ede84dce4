#pragma once
// ClusterBlocks: the blocks of one stored Cluster element, in order: each SimpleBlock, and the
// Block of each BlockGroup with what the group says about it. The one walk over a Cluster's
// children for the readers that take frames out of fragments (HLS/DASH/MP4 playback, GetImages)
// and the frame counter (GetClip). Sans-I/O; views into the caller's bytes; not thread-safe.

#include <cstdint>
#include <span>

#include "media/ebml_reader.hpp"

namespace kvsd::media {

struct ClusterBlock {
  // The Block/SimpleBlock payload: track number (vint), int16 relative timecode, flags, data.
  std::span<const std::uint8_t> payload;
  bool simple = false;         // a SimpleBlock (its key-frame flag is in the payload's flags)
  bool referenced = false;     // a BlockGroup's Block that has a ReferenceBlock (not a key frame)
  std::int64_t duration = -1;  // a BlockGroup's BlockDuration, in TimecodeScale units; -1: none
};

class ClusterBlocks {
 public:
  // `cluster`: one whole Cluster element from its ID (known size, or unknown size running to the
  // end of the span).
  explicit ClusterBlocks(std::span<const std::uint8_t> cluster) noexcept;

  enum class Next : std::uint8_t { block, end, invalid };
  // The next block. invalid (and so on every later call): not a Cluster, a size past the bytes,
  // a malformed child, a BlockGroup with two Blocks or a malformed BlockDuration. A BlockGroup
  // without a Block is skipped.
  Next next(ClusterBlock& out) noexcept;
  // Why next() returned invalid, for error messages (empty before that).
  [[nodiscard]] const char* error() const noexcept { return error_; }

 private:
  Next fail(const char* why) noexcept;

  ebml::ChildIterator children_;
  const char* error_ = "";
  bool failed_ = false;
};

}  // namespace kvsd::media
