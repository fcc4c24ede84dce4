#pragma once
// GetClip's muxer: remuxes stored fragments (one stream header + Cluster bytes) into one
// traditional, non-fragmented MP4 (ftyp, moov with full sample tables, mdat) with libavformat.
// No decoding or re-encoding: the frames are copied as they are (Annex-B video frames are
// rewritten to the length-prefixed form the avcC/hvcC declares).
//
// Threading: no shared state; any number of calls may run at once on different threads. The call
// is blocking CPU work (it copies every frame about twice); run it off the I/O threads.
// FFmpeg's own logging is redirected once per process to a recorder that keeps the last error
// line per thread (used in MediaError::message); nothing is printed.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "media/media_error.hpp"

namespace kvsd::av {

struct ClipLimits {
  // The output is cut after the last whole fragment that keeps it within this size. The first
  // fragment is always included, even when it alone is larger (ingest caps a fragment at 50 MB).
  std::uint64_t max_output_bytes = 100ull << 20;
};

struct ClipResult {
  std::vector<std::uint8_t> mp4;
  std::size_t fragments_used = 0;  // a prefix of `clusters`
  bool truncated = false;          // fragments_used < clusters.size()
};

// `header`: the stored stream header of these fragments (all share it; the caller checks that).
// `clusters`: the fragments' Cluster bytes in time order (at least one).
//
// Builds one MP4 with the video track (V_MPEG4/ISO/AVC -> 'avc1', V_MPEGH/ISO/HEVC -> 'hvc1') first
// and the AAC audio track (A_AAC), when the header has one, second. Errors:
//  - unsupported_media: a track with any other codec or type, no H.264/H.265 video track, more
//    than one video or audio track, or a header that is not EBML + Segment + Info + Tracks;
//  - missing_codec_private: the video or audio track has no CodecPrivate;
//  - invalid_codec_private: the video CodecPrivate is not a well-formed avcC/hvcC record (with at
//    least one SPS and PPS; HEVC also a VPS), or the mp4 muxer rejects the track parameters;
//  - invalid_media_frame: a video frame is neither length-prefixed as its avcC/hvcC says nor
//    Annex-B; a block is empty, malformed or names an undeclared track (the demuxer would skip it
//    silently: frames read are checked against the blocks each Cluster holds); two video
//    frames share a timestamp, or audio timestamps do not increase; the clip has no video
//    frame; or the demuxer/muxer rejects a frame;
//  - internal: no clusters, or FFmpeg failed for another reason (allocation, missing
//    demuxer/muxer).
// Timestamps: the MP4 starts at 0 at the first video frame; every sample keeps its exact offset
// from it (video timescale = the Matroska timecode rate, 1000 for the usual 1 ms TimecodeScale;
// audio timescale = the sampling rate). Audio frames before the first video frame are dropped.
// Blocks carry presentation times only: video decode times are synthesized (the i-th frame in
// decode order gets the i-th smallest presentation time, less the reorder delay), so B-frames get
// a ctts box and an edit list that starts presentation at 0; without B-frames dts == pts. An audio
// track that starts after 0 gets an edit list with an empty edit.
// The last sample of a track lasts until the next frame of that track when the input holds one
// (the first frame past the cut), else BlockDuration/DefaultDuration, else the previous interval.
// Layout: ftyp, free, moov, mdat (moov before the media data, for progressive playback).
std::variant<ClipResult, media::MediaError> build_mp4_clip(std::span<const std::uint8_t> header,
                                                           std::span<const std::span<const std::uint8_t>> clusters,
                                                           const ClipLimits& limits = {});

}  // namespace kvsd::av
