#pragma once
// HLS/DASH segments built from stored fragments (one stream header + one Cluster): the playable
// tracks of a header, per-track timing of a fragment, and fMP4 init and media segments (spec
// archived-media 3.5-3.6). MPEG-TS chunks are av/ts_segment.hpp (libavformat's muxer).
//
// Pure functions over caller-owned bytes: no shared state, thread-safe. No FFmpeg: one pass over
// the Cluster, one output allocation. All are blocking CPU work proportional to the fragment size.
//
// Timing rule shared by fMP4 and TS: a frame at block offset `o` (from the Cluster Timecode,
// TimecodeScale units) is presented at fragment_start_ms + o, converted to the track timescale
// (rounded to the nearest tick). Decode times are synthesized: the i-th frame in decode order gets
// the i-th smallest presentation time, less the fragment's largest reorder delay, so dts <= pts
// and dts increases; without B-frames dts == pts. A frame lasts until the next presentation time
// of its track; the last one for its BlockDuration, else the track's DefaultDuration, else (AAC)
// 1024 samples at the ASC rate, else the average frame interval of the fragment. Laced frames are
// spaced by BlockDuration / lace count, else that same nominal duration.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "media/media_error.hpp"

namespace kvsd::media {

enum class TrackKind { h264, h265, aac };

struct PlaybackTrack {
  std::uint64_t track_number = 0;  // MKV TrackNumber
  TrackKind kind = TrackKind::h264;
  std::string codec_string;                     // RFC 6381: "avc1.64001f", "hvc1.1.6.L93.B0", "mp4a.40.2"
  std::uint32_t width = 0, height = 0;          // video: the Matroska PixelWidth/PixelHeight
  std::uint32_t sample_rate = 0, channels = 0;  // audio: from the AudioSpecificConfig (channels: the
                                                // header's Channels when the ASC says 0)
};

// The tracks HLS/DASH can play from a stored header (spec 3.6): the first TrackEntry H.264
// (V_MPEG4/ISO/AVC) or H.265 (V_MPEGH/ISO/HEVC), optionally followed by one AAC (A_AAC) entry, or
// one AAC entry alone; the documentation's spellings V_MPEG/ISO/AVC and V_MPEG/ISO/HEVC are
// accepted too. Returned in header order. Errors, checked in this order:
//  - unsupported_media: the bytes are not EBML + Segment + Info + Tracks, any other codec or
//    track layout, more than two tracks, or H.265 when mpeg_ts;
//  - missing_codec_private: a playable track without CodecPrivate;
//  - invalid_codec_private: a CodecPrivate that is not a valid avcC/hvcC record (with its
//    parameter sets) or AAC AudioSpecificConfig.
std::variant<std::vector<PlaybackTrack>, MediaError> playback_tracks(std::span<const std::uint8_t> header,
                                                                     bool mpeg_ts);

// Timing of one track of one fragment, from its blocks: first presentation time and real media
// duration (the last frame's end, see the timing rule above), in milliseconds relative to the
// Cluster Timecode (rounded to the nearest ms), and the frame count (laced frames counted one by
// one). A track with no block in the Cluster gives {0, 0, 0}. For EXTINF and DASH
// SegmentTimeline; duration_ms is the sum of the fMP4 sample durations to the nearest ms (exact
// for the usual 1 ms TimecodeScale with video at 90 kHz or audio at a multiple of 1 kHz).
// Errors: unsupported_media (bad header, track absent), invalid_media_frame (malformed Cluster or
// block, two frames of the track at one time, audio times that go back).
struct TrackTiming {
  std::int64_t start_offset_ms = 0;
  std::int64_t duration_ms = 0;
  std::size_t frames = 0;
};
std::variant<TrackTiming, MediaError> track_timing(std::span<const std::uint8_t> header,
                                                   std::span<const std::uint8_t> cluster, std::uint64_t track_number);

// fMP4 init segment for one track: ftyp (iso6; cmfc, iso5, dash, mp41) + moov (mvhd, one trak
// whose track_ID is the MKV TrackNumber, with avc1/avcC, hvc1/hvcC or mp4a/esds from the track's
// CodecPrivate; mvex/trex). Video timescale 90000, audio timescale = the ASC sampling rate.
// Errors: unsupported_media (bad header, track absent, codec not H.264/H.265/AAC, TrackNumber
// above 2^32-1), missing_codec_private, invalid_codec_private.
std::variant<std::vector<std::uint8_t>, MediaError> fmp4_init_segment(std::span<const std::uint8_t> header,
                                                                      std::uint64_t track_number);

// fMP4 media segment for one track of one fragment: styp + moof (mfhd `sequence_number`, traf:
// tfhd (default-base-is-moof), tfdt v1, trun with per-sample duration, size, flags (sync from the
// block's key flag; every audio frame is sync) and, with B-frames, composition offsets (trun v1))
// + mdat. Video samples are length-prefixed NAL units as the avcC/hvcC says (Annex-B frames are
// converted); AAC samples are raw frames (an ADTS header, when present, is removed).
// tfdt = first decode time (timing rule above). A track with no frame in the Cluster gives an
// empty trun and mdat.
// Errors: as fmp4_init_segment, plus invalid_media_frame (malformed Cluster/block, a video frame
// neither length-prefixed nor Annex-B, an empty frame, duplicate or backwards times as in
// track_timing, a decode time before 0).
std::variant<std::vector<std::uint8_t>, MediaError> fmp4_media_segment(std::span<const std::uint8_t> header,
                                                                       std::span<const std::uint8_t> cluster,
                                                                       std::uint64_t track_number,
                                                                       std::uint32_t sequence_number,
                                                                       std::int64_t fragment_start_ms);

}  // namespace kvsd::media
