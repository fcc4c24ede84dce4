#pragma once
// Sans-I/O writer of the Matroska layout the stock KVS producer SDK emits on PutMedia (spec 6.8):
//   EBML header | Segment (unknown size) | Info | Tracks | { Cluster (unknown size) | Timecode |
//   Position | SimpleBlock... | [Tags] }...
// with the SDK's element size widths (Info 2 bytes, Tracks/TrackEntry/Video/Audio 4 bytes,
// SimpleBlock and every Tags level 8 bytes, 8-byte TrackUID/TimecodeScale/Cluster Timecode), so a
// server sees the same bytes the SDK would send. Every function returns or appends bytes; nothing
// here does I/O, allocates beyond its output, or keeps state. Thread-safe.
//
// Preconditions (programmer errors, not input errors; checked by the caller): track numbers are
// 1..126 (one-byte block track field), strings and CodecPrivate are shorter than 2^56 bytes.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kvsd::media {

using Bytes = std::vector<std::uint8_t>;

inline constexpr std::string_view kEndOfFragmentTagName = "AWS_KINESISVIDEO_END_OF_FRAGMENT";
inline constexpr std::string_view kSdkTitle = "Kinesis Video SDK";
inline constexpr std::string_view kSdkWritingApp = "Kinesis Video SDK 1.1.0";

enum class MkvTrackType : std::uint8_t { video = 1, audio = 2 };

struct MkvTrackSpec {
  std::uint8_t number = 1;  // TrackNumber, 1..126; blocks refer to it
  std::uint64_t uid = 1;    // TrackUID (the SDK uses the app's track id: video 1, audio 2)
  MkvTrackType type = MkvTrackType::video;
  std::string name = "kvs_video_track";
  std::string codec_id = "V_MPEG4/ISO/AVC";
  Bytes codec_private;  // AVCC / HVCC record, AudioSpecificConfig; omitted when empty
  // Video: written when both are non-zero.
  std::uint16_t pixel_width = 0;
  std::uint16_t pixel_height = 0;
  // Audio: written when sampling_frequency > 0.
  double sampling_frequency = 0;
  std::uint8_t channels = 0;
  std::uint8_t bit_depth = 0;  // 0: omitted (the SDK writes it for PCM only)
};

struct MkvSegmentSpec {
  std::array<std::uint8_t, 16> segment_uid{0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55,
                                           0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55};
  std::uint64_t timecode_scale_ns = 1'000'000;  // 1 ms, the SDK default
  std::string title{kSdkTitle};
  std::string muxing_app{kSdkWritingApp};
  std::string writing_app{kSdkWritingApp};
};

// EBML header, the unknown-size Segment start, Info and Tracks: the start of every PutMedia body.
Bytes write_mkv_header(const MkvSegmentSpec& segment, std::span<const MkvTrackSpec> tracks);

// Unknown-size Cluster with its 8-byte Timecode (TimecodeScale units) and Position 0.
Bytes write_cluster_start(std::uint64_t timecode);

// The bytes of a SimpleBlock before its payload: ID A3, 8-byte size, track number, 16-bit signed
// timecode relative to the cluster, flags (0x80 when key). Append the payload after them.
inline constexpr std::size_t kSimpleBlockHeaderSize = 13;
std::array<std::uint8_t, kSimpleBlockHeaderSize> simple_block_header(std::uint8_t track_number,
                                                                     std::int16_t relative_timecode, bool key,
                                                                     std::size_t payload_size);
void append_simple_block(Bytes& out, std::uint8_t track_number, std::int16_t relative_timecode, bool key,
                         std::span<const std::uint8_t> payload);

struct MkvSimpleTag {
  std::string_view name;
  std::string_view value;
};
// One Tags element holding one Tag (no Targets) with the given SimpleTags in order; every size 8
// bytes wide.
Bytes write_tags(std::span<const MkvSimpleTag> simple_tags);
// One Tags element holding one Tag with one SimpleTag (TagName, TagString), no Targets; every
// size 8 bytes wide, as the SDK writes fragment metadata.
Bytes write_tag(std::string_view name, std::string_view value);
// The SDK's end-of-fragment marker: write_tag(kEndOfFragmentTagName, "").
Bytes write_end_of_fragment_tag();

}  // namespace kvsd::media
