#include "media/fragment_stats.hpp"

#include <algorithm>
#include <optional>

namespace kvsd::media {

void FragmentStats::reset(std::size_t track_count) {
  tracks_.assign(track_count, Track{});
  any_block_ = false;
}

void FragmentStats::add_block(std::size_t track_index, std::int64_t relative, std::uint64_t frames, bool key) {
  auto& t = tracks_[track_index];
  if (t.blocks == 0) {
    t.min_timecode = t.max_timecode = relative;
  } else {
    t.min_timecode = std::min(t.min_timecode, relative);
    t.max_timecode = std::max(t.max_timecode, relative);
  }
  ++t.blocks;
  t.frames += frames;
  if (key) t.key_frames += frames;
  if (!any_block_) {
    min_timecode_ = max_timecode_ = relative;
    any_block_ = true;
  } else {
    min_timecode_ = std::min(min_timecode_, relative);
    max_timecode_ = std::max(max_timecode_, relative);
  }
}

void FragmentStats::add_key_frames(std::size_t track_index, std::uint64_t frames) {
  tracks_[track_index].key_frames += frames;
}

std::int64_t FragmentStats::frame_interval(const StreamHeader& header) const {
  std::optional<std::size_t> chosen;
  for (std::size_t i = 0; i < tracks_.size(); ++i) {
    if (tracks_[i].blocks == 0) continue;
    if (header.tracks[i].type == 1) {
      chosen = i;
      break;
    }
    if (!chosen || header.tracks[i].number < header.tracks[*chosen].number) chosen = i;
  }
  if (!chosen) return 0;
  const auto& info = header.tracks[*chosen];
  const auto& t = tracks_[*chosen];
  if (info.default_duration_ns != 0) {
    return static_cast<std::int64_t>((info.default_duration_ns + header.timecode_scale_ns / 2) /
                                     header.timecode_scale_ns);
  }
  if (t.blocks < 2) return 0;
  return (t.max_timecode - t.min_timecode) / static_cast<std::int64_t>(t.blocks - 1);
}

void FragmentStats::fill(const StreamHeader& header, Fragment& fragment) const {
  fragment.duration = any_block_ ? max_timecode_ - min_timecode_ + frame_interval(header) : 0;
  fragment.tracks.clear();
  for (std::size_t i = 0; i < tracks_.size(); ++i) {
    const auto& t = tracks_[i];
    if (t.blocks == 0) continue;
    fragment.tracks.push_back(
        TrackStats{header.tracks[i].number, t.frames, t.key_frames, t.min_timecode, t.max_timecode});
  }
  std::sort(fragment.tracks.begin(), fragment.tracks.end(),
            [](const TrackStats& a, const TrackStats& b) { return a.track_number < b.track_number; });
}

}  // namespace kvsd::media
