#include "storage/record_codec.hpp"

#include "fragment.pb.h"

namespace kvsd::storage {

namespace {
constexpr std::uint32_t kFormatVersion = 1;

template <class Message>
bool parse_versioned(std::string_view value, Message& m) {
  if (!m.ParseFromArray(value.data(), static_cast<int>(value.size()))) return false;
  return m.format_version() >= 1 && m.format_version() <= kFormatVersion;
}
}  // namespace

std::string serialize_fragment(const kvs::FragmentRecord& r) {
  proto::FragmentRecord p;
  p.set_format_version(kFormatVersion);
  p.set_stream_id(r.stream_id);
  p.set_fragment_number(r.fragment_number);
  p.set_cluster_timecode(r.cluster_timecode);
  p.set_producer_timestamp_ms(r.producer_timestamp_ms);
  p.set_server_timestamp_ms(r.server_timestamp_ms);
  p.set_duration_ms(r.duration_ms);
  p.set_header_id(r.header_id);
  p.set_segment_id(r.segment_id);
  p.set_offset(r.offset);
  p.set_size_bytes(r.size_bytes);
  for (const auto& t : r.tracks) {
    auto* pt = p.add_tracks();
    pt->set_track_number(t.track_number);
    pt->set_frames(t.frames);
    pt->set_key_frames(t.key_frames);
  }
  for (const auto& [name, value] : r.metadata) {
    auto* pm = p.add_metadata();
    pm->set_name(name);
    pm->set_value(value);
  }
  std::string out;
  p.SerializeToString(&out);
  return out;
}

bool parse_fragment(std::string_view value, kvs::FragmentRecord& r) {
  proto::FragmentRecord p;
  if (!parse_versioned(value, p)) return false;
  r = kvs::FragmentRecord{};
  r.stream_id = p.stream_id();
  r.fragment_number = p.fragment_number();
  r.cluster_timecode = p.cluster_timecode();
  r.producer_timestamp_ms = p.producer_timestamp_ms();
  r.server_timestamp_ms = p.server_timestamp_ms();
  r.duration_ms = p.duration_ms();
  r.header_id = p.header_id();
  r.segment_id = p.segment_id();
  r.offset = p.offset();
  r.size_bytes = p.size_bytes();
  for (const auto& t : p.tracks()) r.tracks.push_back({t.track_number(), t.frames(), t.key_frames()});
  for (const auto& m : p.metadata()) r.metadata.emplace_back(m.name(), m.value());
  return true;
}

std::string serialize_segment(const SegmentInfo& s) {
  proto::SegmentRecord p;
  p.set_format_version(kFormatVersion);
  p.set_stream_id(s.stream_id);
  p.set_segment_id(s.segment_id);
  p.set_created_ms(s.created_ms);
  p.set_size_bytes(s.size_bytes);
  p.set_fragment_count(s.fragment_count);
  p.set_newest_server_timestamp_ms(s.newest_server_timestamp_ms);
  p.set_max_fragment_number(s.max_fragment_number);
  std::string out;
  p.SerializeToString(&out);
  return out;
}

bool parse_segment(std::string_view value, SegmentInfo& s) {
  proto::SegmentRecord p;
  if (!parse_versioned(value, p)) return false;
  s.stream_id = p.stream_id();
  s.segment_id = p.segment_id();
  s.created_ms = p.created_ms();
  s.size_bytes = p.size_bytes();
  s.fragment_count = p.fragment_count();
  s.newest_server_timestamp_ms = p.newest_server_timestamp_ms();
  s.max_fragment_number = p.max_fragment_number();
  return true;
}

std::string serialize_header(const std::vector<std::uint8_t>& content) {
  proto::HeaderRecord p;
  p.set_format_version(kFormatVersion);
  p.set_content(content.data(), content.size());
  std::string out;
  p.SerializeToString(&out);
  return out;
}

bool parse_header(std::string_view value, std::vector<std::uint8_t>& out) {
  proto::HeaderRecord p;
  if (!parse_versioned(value, p)) return false;
  out.assign(p.content().begin(), p.content().end());
  return true;
}

}  // namespace kvsd::storage
