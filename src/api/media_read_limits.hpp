#pragma once
// Limits of the read APIs (config [read]); plain values, no behaviour.

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace kvsd::api {

struct MediaReadLimits {
  std::size_t get_media_per_stream = 3;                 // concurrent GetMedia (ConnectionLimitExceeded)
  std::chrono::milliseconds get_media_idle{3'000};      // GetMedia ends after this long without fragments
  std::size_t max_fragments_per_list_request = 1'000;   // GetMediaForFragmentList Fragments
  std::size_t clip_max_fragments = 200;                 // GetClip, cut silently beyond
  std::uint64_t clip_max_bytes = 100ull << 20;          // GetClip output, cut silently beyond
  std::int64_t clip_max_range_ms = 24ll * 3600 * 1000;  // GetClip TimestampRange
};

}  // namespace kvsd::api
