#pragma once
// Internals shared by the HLS/DASH segment writers (hls_segments.hpp): one playable track's codec
// configuration, the frames of one track in a stored Cluster, and their sample timing in a track
// timescale. Pure functions; thread-safe.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "media/hls_segments.hpp"
#include "media/mkv_document.hpp"
#include "media/mkv_ingest_parser.hpp"

namespace kvsd::media::playback {

// A playable track whose CodecPrivate has been validated.
struct TrackConfig {
  const TrackInfo* info = nullptr;  // points into the caller's StoredHeaderInfo
  TrackKind kind = TrackKind::h264;
  std::string codec_string;
  std::size_t nal_length_size = 4;  // video: from the avcC/hvcC
  std::uint32_t sample_rate = 0;    // audio: the ASC sampling rate (the fMP4 timescale)
  std::uint32_t channels = 0;       // audio
};

// Checks the codec ID and CodecPrivate of one TrackEntry: unsupported_media (codec not
// H.264/H.265/AAC, or H.265 when mpeg_ts), missing_codec_private, invalid_codec_private.
std::variant<TrackConfig, MediaError> resolve_track(const TrackInfo& track, bool mpeg_ts);

// A stored header and one of its tracks, resolved. Keep it in place: config.info points into
// header.tracks.
struct HeaderTrack {
  StoredHeaderInfo header;
  TrackConfig config;
};
// unsupported_media when the header does not parse or has no TrackEntry `track_number`; else
// resolve_track()'s errors.
std::optional<MediaError> load_track(std::span<const std::uint8_t> header, std::uint64_t track_number, bool mpeg_ts,
                                     HeaderTrack& out);

// RFC 6381 codec strings from validated records.
std::string avc_codec_string(std::span<const std::uint8_t> avcc);
std::string hevc_codec_string(std::span<const std::uint8_t> hvcc);

// One frame of a track in a Cluster (laced blocks give one per lace).
struct TrackFrame {
  std::span<const std::uint8_t> payload;  // into the Cluster bytes
  std::int64_t time_ns = 0;               // from the Cluster Timecode
  std::int64_t duration_ns = -1;          // BlockDuration (per lace when laced); -1 when absent
  bool key = false;                       // SimpleBlock key flag; BlockGroup without ReferenceBlock
};

// The nominal duration of one frame when blocks do not say: DefaultDuration, else for AAC 1024
// samples at the ASC rate, else 0 (then the last frame lasts the average frame interval).
std::int64_t nominal_frame_ns(const TrackConfig& config);

// Appends the frames of `track_number` in block order. `scale_ns` is the TimecodeScale;
// `lace_ns` the per-lace spacing when a laced block has no BlockDuration. invalid_media_frame for
// a malformed Cluster, child or block (bad lacing, a block without payload).
std::optional<MediaError> collect_frames(std::span<const std::uint8_t> cluster, std::uint64_t track_number,
                                         std::uint64_t scale_ns, std::int64_t lace_ns, std::vector<TrackFrame>& out);

// Sample timing in one timescale, in the frames' order (decode order).
struct SampleTime {
  std::int64_t dts = 0;        // ticks
  std::int64_t cts = 0;        // pts - dts, >= 0
  std::uint32_t duration = 0;  // ticks to the next sample's dts (last: to the end)
};
struct TimingPlan {
  std::vector<SampleTime> samples;
  std::int64_t first_pts = 0;  // smallest pts, ticks
  std::int64_t end = 0;        // presentation end of the last frame, ticks
  bool has_cts = false;        // some cts != 0
};

// Converts `base_ns + frame.time_ns` to ticks of `timescale` (nearest) and synthesizes decode
// times (hls_segments.hpp, timing rule). `nominal_ns` is nominal_frame_ns(). invalid_media_frame
// when two frames share a tick, audio (`in_order`) times do not increase, or a duration does not
// fit 32 bits.
std::variant<TimingPlan, MediaError> plan_timing(std::span<const TrackFrame> frames, std::int64_t base_ns,
                                                 std::uint32_t timescale, std::int64_t nominal_ns, bool in_order);

// The presentation end (ns from the Cluster Timecode) of the last frame: see the timing rule.
std::int64_t last_frame_end_ns(std::span<const TrackFrame> frames, std::int64_t nominal_ns);

// ticks = round(ns * timescale / 1e9), exact for any int64 ns.
std::int64_t ns_to_ticks(std::int64_t ns, std::uint32_t timescale);

// The length (7 or 9) of the ADTS header `frame` starts with, 0 when it does not start with an
// ADTS header (single raw data block) whose frame_length is the frame size.
std::size_t adts_header_length(std::span<const std::uint8_t> frame);

// Annex-B video frames: the size once rewritten to `length_size`-byte length prefixes (trailing
// zero bytes before start codes dropped; empty NAL units skipped), nullopt when the frame holds no
// NAL unit or one is too long for `length_size`. write_annex_b_as_length_prefixed writes exactly
// that many bytes at `out`.
std::optional<std::size_t> annex_b_length_prefixed_size(std::span<const std::uint8_t> frame, std::size_t length_size);
void write_annex_b_as_length_prefixed(std::span<const std::uint8_t> frame, std::size_t length_size, std::uint8_t* out);

// How one frame becomes an MP4 sample: video frames length-prefixed as the record says are
// copied, Annex-B frames converted; AAC frames lose an ADTS header. invalid_media_frame for a
// video frame in neither form.
struct SamplePayload {
  std::size_t skip = 0;  // leading bytes dropped (ADTS header)
  std::size_t size = 0;  // sample size
  bool annex_b = false;  // converted
};
std::optional<MediaError> plan_payload(const TrackFrame& frame, const TrackConfig& config, SamplePayload& out);
// Writes the sample's `out.size` bytes.
void write_payload(const TrackFrame& frame, const TrackConfig& config, const SamplePayload& plan, std::uint8_t* out);

}  // namespace kvsd::media::playback
