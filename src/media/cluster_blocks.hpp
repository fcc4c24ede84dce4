#pragma once
// ClusterBlocks: the blocks of one stored Cluster element, in order: each SimpleBlock, and the
// Block of each BlockGroup with what the group says about it. The one walk over a Cluster's
// children for the readers that take frames out of fragments (HLS/DASH/MP4 playback, GetImages)
// and the frame counter (GetClip). Sans-I/O; views into the caller's bytes; not thread-safe.

#include <cstdint>
#include <span>
#include <string>

#include "media/ebml_reader.hpp"
#include "media/mkv_block_head.hpp"

namespace kvsd::media {

struct ClusterBlock {
  BlockHead head;                      // track number, relative timecode, flags, laced frames
  std::span<const std::uint8_t> data;  // the block's bytes after its head (and lace count)
  bool simple = false;                 // a SimpleBlock (its key-frame flag is in head.flags)
  bool referenced = false;             // a BlockGroup's Block that has a ReferenceBlock
  std::int64_t duration = -1;          // a BlockGroup's BlockDuration, in TimecodeScale units; -1: none
  // A SimpleBlock's key flag; a group's Block is key when the group has no ReferenceBlock.
  [[nodiscard]] bool key() const noexcept { return simple ? head.key() : !referenced; }
  [[nodiscard]] bool laced() const noexcept { return (head.flags & 0x06) != 0; }
};

class ClusterBlocks {
 public:
  // `cluster`: one whole Cluster element from its ID (known size, or unknown size running to the
  // end of the span).
  explicit ClusterBlocks(std::span<const std::uint8_t> cluster);

  enum class Next : std::uint8_t { block, end, invalid };
  // The next block, its head decoded (decode_block_head). invalid (and so on every later call):
  // not a Cluster, a size past the bytes, a malformed child or block head, a BlockGroup with two
  // Blocks or a malformed BlockDuration. A BlockGroup without a Block is skipped.
  Next next(ClusterBlock& out);
  // Why next() returned invalid, for error messages (empty before that).
  [[nodiscard]] const std::string& error() const noexcept { return error_; }

 private:
  Next fail(std::string why);
  // `out` with `payload`'s head decoded into it.
  Next emit(std::span<const std::uint8_t> payload, ClusterBlock& out);

  ebml::ChildIterator children_;
  std::string error_;
  bool failed_ = false;
};

}  // namespace kvsd::media
