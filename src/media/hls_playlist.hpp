#pragma once
// Text of the HLS master and media playlists and of the DASH MPD for a playback session, laid
// out as spec archived-media 3.3, 3.4 and 4 describe. Pure functions over already chosen fragments;
// no I/O, thread-safe. URIs are relative to the playlist's directory and repeat the session token
// (query strings are not inherited).

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace kvsd::media {

struct PlaylistSegment {
  std::string fragment_number;
  std::int64_t start_ms = 0;     // the session's chosen timestamp of the fragment (epoch ms)
  std::int64_t duration_ms = 0;  // media duration
  std::uint64_t header_id = 0;   // the stream header (init version) the fragment follows
  std::uint64_t sequence = 0;    // session-relative media sequence number
};

enum class DiscontinuityRule { always, never, on_gap };

struct MediaPlaylistSpec {
  std::string_view token;
  std::uint64_t track_number = 1;
  bool mpeg_ts = false;
  bool vod = false;    // PLAYLIST-TYPE:VOD
  bool ended = false;  // ENDLIST
  DiscontinuityRule discontinuity = DiscontinuityRule::always;
  bool program_date_time = false;
  std::uint64_t discontinuity_sequence = 0;  // discontinuities that left a sliding window
};

// Segment durations: seconds with up to three decimals, trailing zeros dropped ("1.021", "2.5", "1").
std::string extinf_seconds(std::int64_t ms);
// UTC ISO-8601 with milliseconds: "2022-01-28T07:00:35.931Z".
std::string iso8601_ms(std::int64_t epoch_ms);

// A gap or overlap of more than this between neighbouring fragments is a discontinuity
// (DiscontinuityMode ON_DISCONTINUITY).
inline constexpr std::int64_t kDiscontinuityGapMs = 50;

std::string media_playlist(const MediaPlaylistSpec& spec, std::span<const PlaylistSegment> segments);

struct VariantTrack {
  std::uint64_t track_number = 0;
  std::string codec;        // RFC 6381 codec string
  std::uint32_t width = 0;  // video only
  std::uint32_t height = 0;
  double frame_rate = 0;  // video only; 0: unknown
};

// One variant: video (or audio alone) on `main`; with `audio`, an audio rendition (GROUP-ID
// "audio") of its own (fMP4 only: a TS chunk carries every track, so there it only adds its codec).
std::string master_playlist(std::string_view token, bool mpeg_ts, const VariantTrack& main,
                            const std::optional<VariantTrack>& audio, std::uint64_t bandwidth_bps);

struct DashSpec {
  std::string_view token;
  bool dynamic = false;                  // LIVE / LIVE_REPLAY: type="dynamic"
  bool display_timestamp = false;        // kvs:ts on every S
  bool display_fragment_number = false;  // kvs:fn on every S
  std::int64_t now_ms = 0;               // publishTime of a dynamic MPD
  std::uint64_t bandwidth_bps = 0;
};

// The MPD: one Period, one AdaptationSet per track, SegmentTemplate with a SegmentTimeline in
// milliseconds whose media URL names the segment by its start time ($Time$ = start_ms).
std::string dash_manifest(const DashSpec& spec, const VariantTrack& main, const std::optional<VariantTrack>& audio,
                          std::span<const PlaylistSegment> segments);

}  // namespace kvsd::media
