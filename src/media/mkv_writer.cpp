#include "media/mkv_writer.hpp"

#include <bit>
#include <cstring>

#include "media/matroska_ids.hpp"

namespace kvsd::media {
namespace {

using namespace mkv_id;  // element IDs, written big-endian with their length marker bits

constexpr std::uint8_t kUnknownSize = 0xFF;

void put_id(Bytes& out, std::uint32_t id) {
  int bytes = id > 0xFFFFFF ? 4 : id > 0xFFFF ? 3 : id > 0xFF ? 2 : 1;
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(id >> (8 * i)));
}

// EBML size as a vint of exactly `width` bytes (1..8). The value must fit (< 2^(7*width) - 1).
void put_size(Bytes& out, std::uint64_t size, int width) {
  const std::uint64_t marked = size | (std::uint64_t{1} << (7 * width));
  for (int i = width - 1; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(marked >> (8 * i)));
}

// The narrowest vint width for size (all-ones values are reserved for "unknown").
int min_size_width(std::uint64_t size) {
  int width = 1;
  while (width < 8 && size >= (std::uint64_t{1} << (7 * width)) - 1) ++width;
  return width;
}

void put_uint_fixed(Bytes& out, std::uint32_t id, std::uint64_t value, int width) {
  put_id(out, id);
  put_size(out, static_cast<std::uint64_t>(width), 1);
  for (int i = width - 1; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
}

void put_binary(Bytes& out, std::uint32_t id, const void* data, std::size_t size, int width = 0) {
  put_id(out, id);
  put_size(out, size, width > 0 ? width : min_size_width(size));
  const auto* p = static_cast<const std::uint8_t*>(data);
  out.insert(out.end(), p, p + size);
}

void put_string(Bytes& out, std::uint32_t id, std::string_view s, int width = 0) {
  put_binary(out, id, s.data(), s.size(), width);
}

// A master element whose children are in `body`, with a size field of `width` bytes.
void put_master(Bytes& out, std::uint32_t id, const Bytes& body, int width) {
  put_id(out, id);
  put_size(out, body.size(), width);
  out.insert(out.end(), body.begin(), body.end());
}

Bytes track_entry(const MkvTrackSpec& t) {
  Bytes e;
  put_uint_fixed(e, kTrackNumber, t.number, 1);
  put_uint_fixed(e, kTrackUid, t.uid, 8);
  put_uint_fixed(e, kTrackType, static_cast<std::uint8_t>(t.type), 1);
  put_string(e, kName, t.name);
  put_string(e, kCodecId, t.codec_id);
  if (t.type == MkvTrackType::video && t.pixel_width != 0 && t.pixel_height != 0) {
    Bytes v;
    put_uint_fixed(v, kPixelWidth, t.pixel_width, 2);
    put_uint_fixed(v, kPixelHeight, t.pixel_height, 2);
    put_master(e, kVideo, v, 4);
  } else if (t.type == MkvTrackType::audio && t.sampling_frequency > 0) {
    Bytes a;
    put_uint_fixed(a, kSamplingFrequency, std::bit_cast<std::uint64_t>(t.sampling_frequency), 8);
    if (t.channels != 0) put_uint_fixed(a, kChannels, t.channels, 1);
    if (t.bit_depth != 0) put_uint_fixed(a, kBitDepth, t.bit_depth, 1);
    put_master(e, kAudio, a, 4);
  }
  if (!t.codec_private.empty()) put_binary(e, kCodecPrivate, t.codec_private.data(), t.codec_private.size());
  return e;
}

}  // namespace

Bytes write_mkv_header(const MkvSegmentSpec& segment, std::span<const MkvTrackSpec> tracks) {
  Bytes out;
  Bytes ebml;
  put_uint_fixed(ebml, kEbmlVersion, 1, 1);
  put_uint_fixed(ebml, kEbmlReadVersion, 1, 1);
  put_uint_fixed(ebml, kEbmlMaxIdLength, 4, 1);
  put_uint_fixed(ebml, kEbmlMaxSizeLength, 8, 1);
  put_string(ebml, kDocType, "matroska");
  put_uint_fixed(ebml, kDocTypeVersion, 2, 1);
  put_uint_fixed(ebml, kDocTypeReadVersion, 2, 1);
  put_master(out, kEbml, ebml, 1);

  put_id(out, kSegment);
  out.push_back(kUnknownSize);

  Bytes info;
  put_binary(info, kSegmentUid, segment.segment_uid.data(), segment.segment_uid.size());
  put_uint_fixed(info, kTimecodeScale, segment.timecode_scale_ns, 8);
  put_string(info, kTitle, segment.title);
  put_string(info, kMuxingApp, segment.muxing_app);
  put_string(info, kWritingApp, segment.writing_app);
  put_master(out, kInfo, info, 2);

  Bytes track_list;
  for (const auto& t : tracks) put_master(track_list, kTrackEntry, track_entry(t), 4);
  put_master(out, kTracks, track_list, 4);
  return out;
}

Bytes write_cluster_start(std::uint64_t timecode) {
  Bytes out;
  out.reserve(18);
  put_id(out, kCluster);
  out.push_back(kUnknownSize);
  put_uint_fixed(out, kTimecode, timecode, 8);
  put_uint_fixed(out, kPosition, 0, 1);
  return out;
}

std::array<std::uint8_t, kSimpleBlockHeaderSize> simple_block_header(std::uint8_t track_number,
                                                                     std::int16_t relative_timecode, bool key,
                                                                     std::size_t payload_size) {
  std::array<std::uint8_t, kSimpleBlockHeaderSize> h{};
  const std::uint64_t size = payload_size + 4;  // track vint, timecode, flags
  h[0] = static_cast<std::uint8_t>(kSimpleBlock);
  h[1] = 0x01;  // 8-byte size marker
  for (int i = 0; i < 7; ++i) h[static_cast<std::size_t>(2 + i)] = static_cast<std::uint8_t>(size >> (8 * (6 - i)));
  h[9] = static_cast<std::uint8_t>(0x80 | (track_number & 0x7F));
  const auto tc = static_cast<std::uint16_t>(relative_timecode);
  h[10] = static_cast<std::uint8_t>(tc >> 8);
  h[11] = static_cast<std::uint8_t>(tc & 0xFF);
  h[12] = key ? 0x80 : 0x00;
  return h;
}

void append_simple_block(Bytes& out, std::uint8_t track_number, std::int16_t relative_timecode, bool key,
                         std::span<const std::uint8_t> payload) {
  const auto h = simple_block_header(track_number, relative_timecode, key, payload.size());
  out.insert(out.end(), h.begin(), h.end());
  out.insert(out.end(), payload.begin(), payload.end());
}

Bytes write_tags(std::span<const MkvSimpleTag> simple_tags) {
  Bytes tag;
  for (const auto& t : simple_tags) {
    Bytes simple;
    put_string(simple, kTagName, t.name, 8);
    put_string(simple, kTagString, t.value, 8);
    put_master(tag, kSimpleTag, simple, 8);
  }
  Bytes tags;
  put_master(tags, kTag, tag, 8);
  Bytes out;
  put_master(out, kTags, tags, 8);
  return out;
}

Bytes write_tag(std::string_view name, std::string_view value) {
  const MkvSimpleTag one{name, value};
  return write_tags(std::span<const MkvSimpleTag>(&one, 1));
}

Bytes write_end_of_fragment_tag() { return write_tag(kEndOfFragmentTagName, ""); }

}  // namespace kvsd::media
