#include "media/mkv_header_elements.hpp"

#include <algorithm>

#include "media/ebml_reader.hpp"
#include "media/matroska_ids.hpp"

namespace kvsd::media {
namespace {

using ebml::ChildIterator;
using ebml::ElementHeader;

// Nesting bound for SimpleTag inside SimpleTag (recursion depth).
constexpr int kMaxSimpleTagDepth = 8;

IngestError invalid(std::string message) {
  return IngestError{IngestErrorId::invalid_mkv, std::move(message), std::nullopt};
}

std::optional<IngestError> parse_video(std::span<const std::uint8_t> payload, TrackInfo& track) {
  ChildIterator it(payload);
  ElementHeader h;
  std::span<const std::uint8_t> p;
  for (auto n = it.next(h, p); n != ChildIterator::Next::end; n = it.next(h, p)) {
    if (n == ChildIterator::Next::invalid) return invalid("malformed Video element");
    if (h.id == mkv_id::kPixelWidth || h.id == mkv_id::kPixelHeight) {
      const auto v = ebml::read_uint(p);
      if (!v) return invalid("bad PixelWidth/PixelHeight");
      (h.id == mkv_id::kPixelWidth ? track.pixel_width : track.pixel_height) = *v;
    }
  }
  return std::nullopt;
}

std::optional<IngestError> parse_audio(std::span<const std::uint8_t> payload, TrackInfo& track) {
  ChildIterator it(payload);
  ElementHeader h;
  std::span<const std::uint8_t> p;
  for (auto n = it.next(h, p); n != ChildIterator::Next::end; n = it.next(h, p)) {
    if (n == ChildIterator::Next::invalid) return invalid("malformed Audio element");
    if (h.id == mkv_id::kSamplingFrequency) {
      const auto v = ebml::read_float(p);
      if (!v) return invalid("bad SamplingFrequency size");
      track.sampling_frequency = *v;
    } else if (h.id == mkv_id::kChannels) {
      const auto v = ebml::read_uint(p);
      if (!v) return invalid("bad Channels");
      track.channels = *v;
    }
  }
  return std::nullopt;
}

std::optional<IngestError> parse_track_entry(std::span<const std::uint8_t> payload, TrackInfo& track) {
  ChildIterator it(payload);
  ElementHeader h;
  std::span<const std::uint8_t> p;
  for (auto n = it.next(h, p); n != ChildIterator::Next::end; n = it.next(h, p)) {
    if (n == ChildIterator::Next::invalid) return invalid("malformed TrackEntry");
    std::optional<std::uint64_t> u;
    switch (h.id) {
      case mkv_id::kTrackNumber:
      case mkv_id::kTrackUid:
      case mkv_id::kTrackType:
      case mkv_id::kDefaultDuration:
        u = ebml::read_uint(p);
        if (!u) return invalid("TrackEntry integer longer than 8 bytes");
        if (h.id == mkv_id::kTrackNumber) track.number = *u;
        if (h.id == mkv_id::kTrackUid) track.uid = *u;
        if (h.id == mkv_id::kTrackType) track.type = *u;
        if (h.id == mkv_id::kDefaultDuration) track.default_duration_ns = *u;
        break;
      case mkv_id::kName:
        track.name = ebml::read_string(p);
        break;
      case mkv_id::kCodecId:
        track.codec_id = ebml::read_string(p);
        break;
      case mkv_id::kCodecPrivate:
        track.codec_private.assign(p.begin(), p.end());
        break;
      case mkv_id::kVideo:
        if (auto err = parse_video(p, track)) return err;
        break;
      case mkv_id::kAudio:
        if (auto err = parse_audio(p, track)) return err;
        break;
      default:
        break;  // other TrackEntry children are kept in the header bytes but not decoded
    }
  }
  if (track.number == 0) return invalid("TrackEntry without a TrackNumber");
  return std::nullopt;
}

// Collects a SimpleTag and its nested SimpleTags.
std::optional<IngestError> parse_simple_tag(std::span<const std::uint8_t> payload, TagsContent& content, int depth) {
  if (depth > kMaxSimpleTagDepth) return invalid("SimpleTag nested too deeply");
  ChildIterator it(payload);
  ElementHeader h;
  std::span<const std::uint8_t> p;
  std::optional<std::string> name;
  std::string value;
  std::vector<std::span<const std::uint8_t>> nested;
  for (auto n = it.next(h, p); n != ChildIterator::Next::end; n = it.next(h, p)) {
    if (n == ChildIterator::Next::invalid) return invalid("malformed SimpleTag");
    if (h.id == mkv_id::kTagName) {
      name = std::string(ebml::read_string(p));
    } else if (h.id == mkv_id::kTagString) {
      value = ebml::read_string(p);
    } else if (h.id == mkv_id::kSimpleTag) {
      nested.push_back(p);
    }
  }
  if (name) {
    if (*name == kEndOfFragmentTagName) content.end_of_fragment = true;
    content.simple_tags.emplace_back(std::move(*name), std::move(value));
  }
  for (const auto child : nested) {
    if (auto err = parse_simple_tag(child, content, depth + 1)) return err;
  }
  return std::nullopt;
}

}  // namespace

std::optional<IngestError> check_ebml_header(std::span<const std::uint8_t> payload) {
  ChildIterator it(payload);
  ElementHeader h;
  std::span<const std::uint8_t> p;
  std::string doc_type = "matroska";
  for (auto n = it.next(h, p); n != ChildIterator::Next::end; n = it.next(h, p)) {
    if (n == ChildIterator::Next::invalid) return invalid("malformed EBML header");
    std::optional<std::uint64_t> u;
    switch (h.id) {
      case mkv_id::kDocType:
        doc_type = ebml::read_string(p);
        break;
      case mkv_id::kEbmlReadVersion:
        u = ebml::read_uint(p);
        if (!u || *u > 1) return invalid("unsupported EBMLReadVersion");
        break;
      case mkv_id::kEbmlMaxIdLength:
        u = ebml::read_uint(p);
        if (!u || *u > ebml::kMaxIdLength) return invalid("unsupported EBMLMaxIDLength");
        break;
      case mkv_id::kEbmlMaxSizeLength:
        u = ebml::read_uint(p);
        if (!u || *u > ebml::kMaxSizeLength) return invalid("unsupported EBMLMaxSizeLength");
        break;
      default:
        break;
    }
  }
  if (doc_type != "matroska" && doc_type != "webm") return invalid("DocType is neither matroska nor webm");
  return std::nullopt;
}

std::optional<IngestError> parse_info(std::span<const std::uint8_t> payload, std::uint64_t& timecode_scale_ns) {
  ChildIterator it(payload);
  ElementHeader h;
  std::span<const std::uint8_t> p;
  std::uint64_t scale = 1'000'000;
  for (auto n = it.next(h, p); n != ChildIterator::Next::end; n = it.next(h, p)) {
    if (n == ChildIterator::Next::invalid) return invalid("malformed Info element");
    if (h.id == mkv_id::kTimecodeScale) {
      const auto v = ebml::read_uint(p);
      if (!v || *v == 0) return invalid("bad TimecodeScale");
      scale = *v;
    }
  }
  timecode_scale_ns = scale;
  return std::nullopt;
}

std::optional<IngestError> parse_tracks(std::span<const std::uint8_t> payload, const IngestLimits& limits,
                                        std::vector<TrackInfo>& tracks) {
  std::vector<TrackInfo> result;
  ChildIterator it(payload);
  ElementHeader h;
  std::span<const std::uint8_t> p;
  for (auto n = it.next(h, p); n != ChildIterator::Next::end; n = it.next(h, p)) {
    if (n == ChildIterator::Next::invalid) return invalid("malformed Tracks element");
    if (h.id != mkv_id::kTrackEntry) continue;
    if (result.size() >= limits.max_tracks) {
      return IngestError{IngestErrorId::too_many_tracks,
                         "more than " + std::to_string(limits.max_tracks) + " TrackEntry elements", std::nullopt};
    }
    TrackInfo track;
    if (auto err = parse_track_entry(p, track)) return err;
    const bool duplicate =
        std::any_of(result.begin(), result.end(), [&](const TrackInfo& t) { return t.number == track.number; });
    if (duplicate) return invalid("duplicate TrackNumber " + std::to_string(track.number));
    result.push_back(std::move(track));
  }
  if (result.empty()) return invalid("Tracks without a TrackEntry");
  tracks = std::move(result);
  return std::nullopt;
}

std::optional<IngestError> parse_tags(std::span<const std::uint8_t> payload, TagsContent& content) {
  ChildIterator tags(payload);
  ElementHeader h;
  std::span<const std::uint8_t> p;
  for (auto n = tags.next(h, p); n != ChildIterator::Next::end; n = tags.next(h, p)) {
    if (n == ChildIterator::Next::invalid) return invalid("malformed Tags element");
    if (h.id != mkv_id::kTag) continue;
    ChildIterator tag(p);
    ElementHeader th;
    std::span<const std::uint8_t> tp;
    for (auto m = tag.next(th, tp); m != ChildIterator::Next::end; m = tag.next(th, tp)) {
      if (m == ChildIterator::Next::invalid) return invalid("malformed Tag element");
      if (th.id != mkv_id::kSimpleTag) continue;  // Targets and others carry nothing for ingest
      if (auto err = parse_simple_tag(tp, content, 0)) return err;
    }
  }
  return std::nullopt;
}

}  // namespace kvsd::media
