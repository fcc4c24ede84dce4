// playback_tracks and track_timing (hls_segments.hpp). The segment writers are in
// fmp4_segments.cpp (TS: av/ts_segment.cpp).

#include "media/hls_segments.hpp"

#include "media/fmp4_track.hpp"
#include "media/mkv_document.hpp"

namespace kvsd::media {
namespace {

MediaError error(MediaErrc code, std::string message) { return MediaError{code, std::move(message)}; }

constexpr std::uint32_t kMicroseconds = 1'000'000;

// Nearest millisecond of a microsecond offset (halves away from zero).
std::int64_t us_to_ms(std::int64_t us) { return us >= 0 ? (us + 500) / 1000 : -((-us + 500) / 1000); }

}  // namespace

std::variant<std::vector<PlaybackTrack>, MediaError> playback_tracks(std::span<const std::uint8_t> header,
                                                                     bool mpeg_ts) {
  const auto info = read_stored_header(header);
  if (!info) return error(MediaErrc::unsupported_media, "the stream header is not EBML + Segment + Info + Tracks");
  const auto& tracks = info->tracks;
  if (tracks.empty() || tracks.size() > 2) {
    return error(MediaErrc::unsupported_media,
                 "HLS/DASH need one or two tracks; the stream has " + std::to_string(tracks.size()));
  }
  // Resolve every track first so that an unsupported codec anywhere wins over CodecPrivate errors.
  std::vector<std::variant<playback::TrackConfig, MediaError>> resolved;
  for (const auto& t : tracks) resolved.push_back(playback::resolve_track(t, mpeg_ts));
  for (const auto& r : resolved) {
    if (const auto* err = std::get_if<MediaError>(&r); err != nullptr && err->code == MediaErrc::unsupported_media) {
      return *err;
    }
  }
  const auto kind_of = [&](std::size_t i) -> std::optional<TrackKind> {
    if (const auto* c = std::get_if<playback::TrackConfig>(&resolved[i])) return c->kind;
    const auto& id = tracks[i].codec_id;  // CodecPrivate errors: the codec itself is known
    if (id == "A_AAC") return TrackKind::aac;
    return id.find("HEVC") != std::string::npos ? TrackKind::h265 : TrackKind::h264;
  };
  if (tracks.size() == 2) {
    if (kind_of(0) == TrackKind::aac || kind_of(1) != TrackKind::aac) {
      return error(MediaErrc::unsupported_media,
                   "with two tracks, the first must be H.264/H.265 video and the second AAC audio");
    }
  }
  for (const auto errc : {MediaErrc::missing_codec_private, MediaErrc::invalid_codec_private}) {
    for (const auto& r : resolved) {
      if (const auto* err = std::get_if<MediaError>(&r); err != nullptr && err->code == errc) return *err;
    }
  }
  std::vector<PlaybackTrack> out;
  for (const auto& r : resolved) {
    const auto& c = std::get<playback::TrackConfig>(r);
    PlaybackTrack t;
    t.track_number = c.info->number;
    t.kind = c.kind;
    t.codec_string = c.codec_string;
    if (c.kind == TrackKind::aac) {
      t.sample_rate = c.sample_rate;
      t.channels = c.channels;
    } else {
      t.width = static_cast<std::uint32_t>(c.info->pixel_width);
      t.height = static_cast<std::uint32_t>(c.info->pixel_height);
    }
    out.push_back(std::move(t));
  }
  return out;
}

std::variant<TrackTiming, MediaError> track_timing(std::span<const std::uint8_t> header,
                                                   std::span<const std::uint8_t> cluster, std::uint64_t track_number) {
  playback::HeaderTrack ht;
  if (auto err = playback::load_track(header, track_number, false, ht)) {
    // Timing needs the frames only: a CodecPrivate problem does not stop it.
    if (err->code == MediaErrc::unsupported_media) return std::move(*err);
  }
  if (ht.config.info == nullptr) {
    for (const auto& t : ht.header.tracks) {
      if (t.number == track_number) ht.config.info = &t;
    }
    ht.config.kind = ht.config.info->codec_id == "A_AAC" ? TrackKind::aac : TrackKind::h264;
  }
  const std::int64_t nominal = playback::nominal_frame_ns(ht.config);
  std::vector<playback::TrackFrame> frames;
  frames.reserve(256);
  if (auto err = playback::collect_frames(cluster, track_number, ht.header.timecode_scale_ns, nominal, frames)) {
    return std::move(*err);
  }
  TrackTiming timing;
  timing.frames = frames.size();
  if (frames.empty()) return timing;
  // Same checks as the segment writers, at microsecond precision.
  const bool audio = ht.config.kind == TrackKind::aac;
  auto planned = playback::plan_timing(frames, 0, kMicroseconds, nominal, audio);
  if (auto* err = std::get_if<MediaError>(&planned)) return std::move(*err);
  const auto& plan = std::get<playback::TimingPlan>(planned);
  timing.start_offset_ms = us_to_ms(plan.first_pts);
  timing.duration_ms = us_to_ms(plan.end) - timing.start_offset_ms;
  return timing;
}

}  // namespace kvsd::media
