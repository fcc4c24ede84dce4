#pragma once
// Record codec: the values stored in the fragments, segments and headers families (proto
// messages of proto/fragment.proto) to and from plain C++ types. parse_* return false on a
// value that is not a record of a known format version.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kvs/fragment_store.hpp"

namespace kvsd::storage {

// One blob segment file, as the segments family records it.
struct SegmentInfo {
  std::uint64_t stream_id = 0;
  std::uint64_t segment_id = 0;
  std::int64_t created_ms = 0;
  std::uint64_t size_bytes = 0;  // end of the last indexed fragment
  std::uint64_t fragment_count = 0;
  std::int64_t newest_server_timestamp_ms = 0;
  std::uint64_t max_fragment_number = 0;
};

std::string serialize_fragment(const kvs::FragmentRecord& record);
bool parse_fragment(std::string_view value, kvs::FragmentRecord& out);

std::string serialize_segment(const SegmentInfo& info);
bool parse_segment(std::string_view value, SegmentInfo& out);

std::string serialize_header(const std::vector<std::uint8_t>& content);
bool parse_header(std::string_view value, std::vector<std::uint8_t>& out);

}  // namespace kvsd::storage
