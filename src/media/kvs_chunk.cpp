#include "media/kvs_chunk.hpp"

#include <array>
#include <cstdio>

#include "media/mkv_document.hpp"
#include "media/mkv_writer.hpp"

namespace kvsd::media {

std::string epoch_seconds_text(std::int64_t ms) {
  const bool negative = ms < 0;
  const auto magnitude = negative ? -static_cast<std::uint64_t>(ms) : static_cast<std::uint64_t>(ms);
  std::array<char, 32> buf{};
  const int n = std::snprintf(buf.data(), buf.size(), "%s%llu.%03llu", negative ? "-" : "",
                              static_cast<unsigned long long>(magnitude / 1000),
                              static_cast<unsigned long long>(magnitude % 1000));
  return std::string(buf.data(), static_cast<std::size_t>(n));
}

std::vector<std::uint8_t> chunk_prefix(std::span<const std::uint8_t> stored_header, const ChunkInfo& info) {
  auto out = unknown_size_segment_header(stored_header);
  if (out.empty()) return out;
  const auto server = epoch_seconds_text(info.server_timestamp_ms);
  const auto producer = epoch_seconds_text(info.producer_timestamp_ms);
  const std::array<MkvSimpleTag, 3> tags{MkvSimpleTag{kTagFragmentNumber, info.fragment_number},
                                         MkvSimpleTag{kTagServerTimestamp, server},
                                         MkvSimpleTag{kTagProducerTimestamp, producer}};
  const auto t = write_tags(tags);
  out.insert(out.end(), t.begin(), t.end());
  return out;
}

std::vector<std::uint8_t> get_media_trailer(std::int64_t millis_behind_now, std::string_view continuation_token) {
  const auto behind = std::to_string(millis_behind_now < 0 ? 0 : millis_behind_now);
  const std::array<MkvSimpleTag, 2> tags{MkvSimpleTag{kTagMillisBehindNow, behind},
                                         MkvSimpleTag{kTagContinuationToken, continuation_token}};
  return write_tags(tags);
}

}  // namespace kvsd::media
