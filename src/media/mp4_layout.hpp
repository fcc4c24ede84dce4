#pragma once
// Box-level rewrite of a finished MP4: move the moov box in front of the media data, as
// `movflags=faststart` would (libavformat's faststart pass reopens the output by URL, which a
// memory output cannot do). Pure function over caller-owned bytes; thread-safe.

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace kvsd::media {

// Returns `mp4` with its top-level moov moved right before the first top-level mdat, every
// stco/co64 chunk offset in it raised by the moov's size. Returns the input unchanged when moov
// already precedes mdat. nullopt when the top-level boxes do not parse, there is no moov or mdat,
// the moov's sample tables are malformed, or a raised offset no longer fits a 32-bit stco.
std::optional<std::vector<std::uint8_t>> move_moov_before_mdat(std::span<const std::uint8_t> mp4);

}  // namespace kvsd::media
