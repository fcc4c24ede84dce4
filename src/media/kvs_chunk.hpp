#pragma once
// The MKV "chunks" GetMedia and GetMediaForFragmentList return, one complete Matroska document per
// fragment (spec archived-media 8, ingest-and-control 4.2):
//   EBML header | Segment (unknown size) | Info | Tracks        (the stored stream header)
//   | Tags: AWS_KINESISVIDEO_FRAGMENT_NUMBER, _SERVER_TIMESTAMP, _PRODUCER_TIMESTAMP
//   | Cluster                                                  (the stored bytes, unchanged)
//   | Tags: AWS_KINESISVIDEO_MILLIS_BEHIND_NOW, _CONTINUATION_TOKEN (GetMedia only)
// Sans-I/O: functions return bytes; the caller sends the cluster bytes between prefix and trailer
// without copying them. Thread-safe.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kvsd::media {

inline constexpr std::string_view kTagFragmentNumber = "AWS_KINESISVIDEO_FRAGMENT_NUMBER";
inline constexpr std::string_view kTagServerTimestamp = "AWS_KINESISVIDEO_SERVER_TIMESTAMP";
inline constexpr std::string_view kTagProducerTimestamp = "AWS_KINESISVIDEO_PRODUCER_TIMESTAMP";
inline constexpr std::string_view kTagMillisBehindNow = "AWS_KINESISVIDEO_MILLIS_BEHIND_NOW";
inline constexpr std::string_view kTagContinuationToken = "AWS_KINESISVIDEO_CONTINUATION_TOKEN";

struct ChunkInfo {
  std::string_view fragment_number;
  std::int64_t server_timestamp_ms = 0;
  std::int64_t producer_timestamp_ms = 0;
};

// Epoch milliseconds as decimal seconds with three decimals: 1511852109126 -> "1511852109.126".
std::string epoch_seconds_text(std::int64_t ms);

// The document start for one fragment: `stored_header` (EBML header + Segment header + Info +
// Tracks, as stored) with the Segment made unknown-size, then the fragment Tags. An empty vector
// when the stored header does not start with an EBML header followed by a Segment.
std::vector<std::uint8_t> chunk_prefix(std::span<const std::uint8_t> stored_header, const ChunkInfo& info);

// The GetMedia trailer after the Cluster.
std::vector<std::uint8_t> get_media_trailer(std::int64_t millis_behind_now, std::string_view continuation_token);

}  // namespace kvsd::media
