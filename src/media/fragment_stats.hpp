#pragma once
// FragmentStats: per-track block statistics of the fragment being parsed, and the fragment
// duration estimate derived from them (see Fragment::duration). Owned by one parser; no threading.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "media/mkv_ingest_parser.hpp"

namespace kvsd::media {

class FragmentStats {
 public:
  // Starts a fragment for a stream with `track_count` tracks (indexes parallel to the header's).
  void reset(std::size_t track_count);
  // One block of `frames` frames (laced blocks count every lace) at `relative` timecode.
  void add_block(std::size_t track_index, std::int64_t relative, std::uint64_t frames, bool key);
  // Marks `frames` frames of a track as key frames (BlockGroups learn this after their Block).
  void add_key_frames(std::size_t track_index, std::uint64_t frames);

  // Fills fragment.tracks (tracks with blocks, in track-number order) and fragment.duration
  // (last - first block timecode plus one frame interval of the video track, else of the first
  // track with blocks: its DefaultDuration, else the mean block spacing; 0 with one block).
  void fill(const StreamHeader& header, Fragment& fragment) const;

 private:
  struct Track {
    std::uint64_t frames = 0;
    std::uint64_t key_frames = 0;
    std::uint64_t blocks = 0;
    std::int64_t min_timecode = 0;
    std::int64_t max_timecode = 0;
  };
  std::int64_t frame_interval(const StreamHeader& header) const;

  std::vector<Track> tracks_;
  bool any_block_ = false;
  std::int64_t min_timecode_ = 0;
  std::int64_t max_timecode_ = 0;
};

}  // namespace kvsd::media
