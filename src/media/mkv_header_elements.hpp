#pragma once
// Decoders for the buffered Matroska elements of an ingest body: the EBML header, Info, Tracks
// and Tags. Each takes the element's complete payload (bounded by the caller's limits) and returns
// the decoded value or the IngestError to report. Pure functions, no allocation beyond the result.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "media/mkv_ingest_parser.hpp"

namespace kvsd::media {

inline constexpr std::string_view kEndOfFragmentTagName = "AWS_KINESISVIDEO_END_OF_FRAGMENT";

// Checks DocType (matroska or webm), EBMLReadVersion and the ID/size length bounds.
std::optional<IngestError> check_ebml_header(std::span<const std::uint8_t> payload);

// Reads TimecodeScale (default 1,000,000 ns; 0 is invalid).
std::optional<IngestError> parse_info(std::span<const std::uint8_t> payload, std::uint64_t& timecode_scale_ns);

// Reads every TrackEntry. More than limits.max_tracks entries is 4005; no entry, a zero or
// duplicate TrackNumber, or a malformed child is 4006.
std::optional<IngestError> parse_tracks(std::span<const std::uint8_t> payload, const IngestLimits& limits,
                                        std::vector<TrackInfo>& tracks);

struct TagsContent {
  // Every SimpleTag (nested ones included) with a TagName, in document order: (name, TagString).
  std::vector<std::pair<std::string, std::string>> simple_tags;
  bool end_of_fragment = false;  // one of them is AWS_KINESISVIDEO_END_OF_FRAGMENT
};

// Reads Tags -> Tag -> [Targets] -> SimpleTag (nested SimpleTags allowed).
std::optional<IngestError> parse_tags(std::span<const std::uint8_t> payload, TagsContent& content);

}  // namespace kvsd::media
