#include "media/mkv_ingest_parser.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <string_view>

#include "media/ebml_reader.hpp"
#include "media/fragment_metadata.hpp"
#include "media/fragment_stats.hpp"
#include "media/matroska_ids.hpp"
#include "media/mkv_block_head.hpp"
#include "media/mkv_header_elements.hpp"
#include "media/stream_header_parts.hpp"

namespace kvsd::media {
namespace {

// Payloads of cluster children that are integers (Timecode, Position, PrevSize, BlockDuration,
// ReferenceBlock) are at most this long.
constexpr std::uint64_t kMaxIntegerPayload = 8;

}  // namespace

struct MkvIngestParser::Impl {
  using Part = StreamHeaderParts::Part;
  enum class Mode : std::uint8_t { header, skip, buffer, block_head, block_body };
  enum class Doc : std::uint8_t { expect_ebml, expect_segment, in_segment, after_segment };

  Impl(Handler& h, IngestLimits l, bool copy)
      : handler(h),
        limits(l),
        copy_cluster(copy),
        metadata(MetadataLimits{l.max_metadata_items, l.max_metadata_name_bytes, l.max_metadata_value_bytes}) {}

  Handler& handler;
  IngestLimits limits;
  bool copy_cluster;
  std::optional<IngestError> error;
  bool finished = false;
  bool ended_inside_element = false;  // finish() found the body cut inside an element

  // Reading position.
  std::uint64_t pos = 0;            // body offset of the next byte to consume
  std::uint64_t element_start = 0;  // body offset of the element being read
  Mode mode = Mode::header;
  ebml::ElementHeaderReader header_reader;
  std::uint64_t remaining = 0;  // payload bytes left in skip/buffer/block modes
  std::uint32_t element_id = 0;
  std::vector<std::uint8_t> buffer;  // buffered element: header bytes then payload
  std::size_t buffer_header_length = 0;

  // Block header being read.
  std::array<std::uint8_t, kMaxBlockHead> block_head{};
  std::size_t block_head_filled = 0;
  std::size_t block_head_needed = 0;
  std::uint64_t block_size = 0;
  bool block_simple = true;

  // Document structure.
  Doc doc = Doc::expect_ebml;
  bool segment_unknown = false;
  std::uint64_t segment_end = 0;
  StreamHeaderParts parts;
  StreamHeader header;

  // Cluster and BlockGroup in progress.
  bool cluster_active = false;
  bool cluster_unknown = false;
  std::uint64_t cluster_end = 0;
  bool timecode_parsed = false;
  bool group_active = false;
  std::uint64_t group_end = 0;
  bool group_has_block = false;
  bool group_has_reference = false;
  std::size_t group_track = 0;
  std::uint64_t group_frames = 0;

  // Fragment in progress (open from its Cluster until it is closed).
  bool fragment_open = false;
  Fragment fragment;
  FragmentStats stats;
  FragmentMetadata metadata;  // which fragment each metadata item belongs to
  std::optional<std::uint64_t> last_cluster_timecode;
  std::size_t reserve_hint = 0;

  void fail(IngestErrorId id, std::string message) {
    if (error) return;
    error = IngestError{id, std::move(message) + " (element at body offset " + std::to_string(element_start) + ")",
                        std::nullopt};
  }
  void invalid(std::string message) { fail(IngestErrorId::invalid_mkv, std::move(message)); }

  // ---- byte consumption -------------------------------------------------------------------

  std::optional<IngestError> feed(std::span<const std::uint8_t> in) {
    if (error) return error;
    if (finished) {
      invalid("data after finish()");
      return error;
    }
    std::size_t off = 0;
    while (off < in.size() && !error) {
      switch (mode) {
        case Mode::header:
          off += consume_header(in.subspan(off));
          break;
        case Mode::block_head:
          off += consume_block_head(in.subspan(off));
          break;
        case Mode::skip:
        case Mode::buffer:
        case Mode::block_body:
          off += consume_payload(in.subspan(off));
          break;
      }
    }
    // Report a known-size Cluster or Segment that ended with this input without waiting for more.
    if (!error && mode == Mode::header && !header_reader.partial()) close_finished_levels();
    return error;
  }

  std::size_t consume_header(std::span<const std::uint8_t> in) {
    if (!header_reader.partial()) {
      close_finished_levels();
      if (error) return in.size();
      element_start = pos;
    }
    const auto step = header_reader.feed(in);
    pos += step.consumed;
    if (step.status == ebml::ReadStatus::invalid) {
      invalid("invalid element ID or size");
      return in.size();
    }
    if (step.status == ebml::ReadStatus::complete) {
      const ebml::ElementHeader h = header_reader.header();
      on_element(h, header_reader.raw());
      header_reader.reset();
      if (!error && mode != Mode::header && remaining == 0) complete_payload();
    }
    return step.consumed;
  }

  std::size_t consume_payload(std::span<const std::uint8_t> in) {
    const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining, in.size()));
    const auto chunk = in.first(take);
    if (cluster_active) append_cluster(chunk);
    if (mode == Mode::buffer) buffer.insert(buffer.end(), chunk.begin(), chunk.end());
    remaining -= take;
    pos += take;
    if (remaining == 0) complete_payload();
    return take;
  }

  std::size_t consume_block_head(std::span<const std::uint8_t> in) {
    std::size_t used = 0;
    while (!error && used < in.size() && block_head_filled < block_head_needed) {
      const std::size_t take = std::min(block_head_needed - block_head_filled, in.size() - used);
      std::memcpy(block_head.data() + block_head_filled, in.data() + used, take);
      block_head_filled += take;
      used += take;
      const std::size_t needed = block_head_length({block_head.data(), block_head_filled});
      if (needed == 0) {
        invalid("invalid block track number");
        return in.size();
      }
      if (needed > block_size) {
        invalid("block shorter than its header");
        return in.size();
      }
      block_head_needed = needed;
    }
    const auto chunk = in.first(used);
    append_cluster(chunk);
    pos += used;
    remaining -= used;
    if (!error && block_head_filled == block_head_needed) {
      on_block_header();
      if (error) return in.size();
      mode = Mode::block_body;
      if (remaining == 0) complete_payload();
    }
    return error ? in.size() : used;
  }

  // `bytes` are the next of the open Cluster (always the body bytes right after the previous ones).
  void append_cluster(std::span<const std::uint8_t> bytes) {
    fragment.cluster_size += bytes.size();
    if (copy_cluster) fragment.cluster_bytes.insert(fragment.cluster_bytes.end(), bytes.begin(), bytes.end());
  }

  // ---- structure ---------------------------------------------------------------------------

  // Closes the known-size masters that end at the current position.
  void close_finished_levels() {
    if (group_active && pos >= group_end) end_group();
    if (cluster_active && !cluster_unknown && pos >= cluster_end) end_cluster();
    if (!error && doc == Doc::in_segment && !segment_unknown && pos >= segment_end) end_segment();
  }

  void on_element(const ebml::ElementHeader& h, std::span<const std::uint8_t> raw) {
    element_id = h.id;
    if (group_active) {
      on_group_child(h, raw);
      return;
    }
    if (cluster_active) {
      if (is_cluster_child(h.id)) {
        on_cluster_child(h, raw);
        return;
      }
      if (!cluster_unknown) {
        invalid("element " + hex_id(h.id) + " is not allowed in a Cluster");
        return;
      }
      end_cluster();  // an unknown-size Cluster ends at the first element that is not its child
      if (error) return;
    }
    switch (doc) {
      case Doc::expect_ebml:
        if (h.id != mkv_id::kEbml) return invalid("body does not start with an EBML header");
        return start_buffer(h, raw, limits.max_header_bytes);
      case Doc::expect_segment:
        if (h.id == mkv_id::kSegment) return start_segment(h, raw);
        if (h.id == mkv_id::kVoid || h.id == mkv_id::kCrc32) return start_skip(h);
        return invalid("expected a Segment after the EBML header, got " + hex_id(h.id));
      case Doc::in_segment:
        return on_segment_child(h, raw);
      case Doc::after_segment:
        if (h.id == mkv_id::kEbml) return start_document(h, raw);
        if (h.id == mkv_id::kVoid || h.id == mkv_id::kCrc32) return start_skip(h);
        return invalid("element " + hex_id(h.id) + " after the Segment ended");
    }
  }

  void start_segment(const ebml::ElementHeader& h, std::span<const std::uint8_t> raw) {
    doc = Doc::in_segment;
    segment_unknown = h.unknown_size;
    segment_end = pos + h.size;
    parts.set(Part::segment, raw);
  }

  void end_segment() {
    close_fragment(false);
    doc = Doc::after_segment;
  }

  // A new EBML header after the first document: a new stream header follows (see the header
  // comment of MkvIngestParser). Cluster timecodes stay monotonic across documents of one body.
  void start_document(const ebml::ElementHeader& h, std::span<const std::uint8_t> raw) {
    parts.clear();
    header = StreamHeader{};
    doc = Doc::expect_ebml;
    start_buffer(h, raw, limits.max_header_bytes);
  }

  void on_segment_child(const ebml::ElementHeader& h, std::span<const std::uint8_t> raw) {
    if (h.unknown_size && h.id != mkv_id::kCluster) {
      return invalid("unknown size on element " + hex_id(h.id));
    }
    if (!segment_unknown && (h.unknown_size || pos > segment_end || h.size > segment_end - pos)) {
      return invalid("element " + hex_id(h.id) + " is bigger than its Segment");
    }
    switch (h.id) {
      case mkv_id::kEbml:
        if (!segment_unknown) return invalid("EBML header inside a Segment");
        end_segment();
        return start_document(h, raw);
      case mkv_id::kSegment:
        return invalid("a second Segment");
      case mkv_id::kInfo:
      case mkv_id::kTracks:
        close_fragment(false);
        if (error) return;
        return start_buffer(h, raw, limits.max_header_bytes);
      case mkv_id::kCluster:
        return start_cluster(h, raw);
      case mkv_id::kTags:
        return start_buffer(h, raw, limits.max_tags_bytes);
      case mkv_id::kSeekHead:
      case mkv_id::kCues:
      case mkv_id::kChapters:
      case mkv_id::kAttachments:
      case mkv_id::kVoid:
      case mkv_id::kCrc32:
        return start_skip(h);
      default:
        return invalid("element " + hex_id(h.id) + " is not allowed in a Segment");
    }
  }

  void start_skip(const ebml::ElementHeader& h) {
    if (h.unknown_size) return invalid("unknown size on element " + hex_id(h.id));
    if (!cluster_active && h.size > limits.max_skipped_element_bytes) {
      return invalid("element " + hex_id(h.id) + " over the size limit");
    }
    mode = Mode::skip;
    remaining = h.size;
  }

  // Buffers a whole element (header and payload); `limit` bounds the payload. The parts of the
  // stream header together are bounded by max_header_bytes.
  void start_buffer(const ebml::ElementHeader& h, std::span<const std::uint8_t> raw, std::uint64_t limit) {
    if (h.unknown_size) return invalid("unknown size on element " + hex_id(h.id));
    if (h.size > limit) return invalid("element " + hex_id(h.id) + " over the size limit");
    if (h.id == mkv_id::kEbml || h.id == mkv_id::kInfo || h.id == mkv_id::kTracks) {
      const Part part = h.id == mkv_id::kEbml ? Part::ebml : h.id == mkv_id::kInfo ? Part::info : Part::tracks;
      const std::uint64_t others = parts.size_without(part);
      if (others + raw.size() + h.size > limits.max_header_bytes) return invalid("stream header over the size limit");
    }
    mode = Mode::buffer;
    remaining = h.size;
    buffer.assign(raw.begin(), raw.end());
    buffer_header_length = raw.size();
    if (!cluster_active) buffer.reserve(raw.size() + static_cast<std::size_t>(h.size));
  }

  void complete_payload() {
    const Mode done = mode;
    mode = Mode::header;
    if (done == Mode::buffer) on_buffered();
  }

  void on_buffered() {
    const std::span<const std::uint8_t> payload = std::span<const std::uint8_t>(buffer).subspan(buffer_header_length);
    switch (element_id) {
      case mkv_id::kEbml:
        if (auto err = check_ebml_header(payload)) return fail(err->id, err->message);
        parts.set(Part::ebml, buffer);
        doc = Doc::expect_segment;
        return;
      case mkv_id::kInfo:
        if (auto err = parse_info(payload, header.timecode_scale_ns)) return fail(err->id, err->message);
        parts.set(Part::info, buffer);
        return;
      case mkv_id::kTracks:
        if (auto err = parse_tracks(payload, limits, header.tracks)) return fail(err->id, err->message);
        parts.set(Part::tracks, buffer);
        if (parts.has(Part::info)) emit_header();
        return;
      case mkv_id::kTags:
        return on_tags(payload);
      case mkv_id::kTimecode:
        return on_cluster_timecode(payload);
      default:
        return;
    }
  }

  void emit_header() {
    parts.assemble(header.bytes);
    handler.on_header(header);
  }

  // ---- Tags --------------------------------------------------------------------------------

  void on_tags(std::span<const std::uint8_t> payload) {
    TagsContent content;
    if (auto err = parse_tags(payload, content)) return fail(err->id, err->message);
    for (auto& [name, value] : content.simple_tags) {
      if (std::string_view(name).substr(0, 3) == "AWS") continue;
      if (!fragment_open) {
        metadata.add_waiting(std::move(name), std::move(value), element_start);
      } else if (const char* problem = metadata.add_to_open(fragment.metadata, std::move(name), std::move(value))) {
        return fail(IngestErrorId::metadata_limit_reached, problem);
      }
    }
    if (!content.end_of_fragment) return;
    if (fragment_open) return close_fragment(true);
    metadata.drop_waiting();  // it closes a fragment that is not in this body
  }

  // ---- Clusters, blocks and fragments ------------------------------------------------------

  void start_cluster(const ebml::ElementHeader& h, std::span<const std::uint8_t> raw) {
    close_fragment(false);
    if (error) return;
    if (!parts.has(Part::tracks)) return invalid("Cluster before Tracks");
    if (!h.unknown_size && raw.size() + h.size > limits.max_fragment_bytes) {
      return fail(IngestErrorId::fragment_size_reached, "Cluster over the fragment size limit");
    }
    if (parts.needs_report()) emit_header();
    cluster_active = true;
    cluster_unknown = h.unknown_size;
    cluster_end = pos + h.size;
    timecode_parsed = false;
    fragment_open = true;
    fragment = Fragment{};
    fragment.cluster_offset = element_start;
    if (copy_cluster) fragment.cluster_bytes.reserve(reserve_hint);
    fragment.metadata = metadata.take_waiting();
    stats.reset(header.tracks.size());
    append_cluster(raw);
  }

  void end_cluster() {
    cluster_active = false;
    if (!timecode_parsed) invalid("Cluster without a Timecode");
  }

  bool check_cluster_child(const ebml::ElementHeader& h, std::uint64_t parent_end, bool parent_unknown) {
    if (h.unknown_size) {
      invalid("unknown size on element " + hex_id(h.id));
      return false;
    }
    if (!parent_unknown && (pos > parent_end || h.size > parent_end - pos)) {
      invalid("element " + hex_id(h.id) + " is bigger than its parent");
      return false;
    }
    if (fragment.cluster_size + h.length + h.size > limits.max_fragment_bytes) {
      fail(IngestErrorId::fragment_size_reached, "Cluster over the fragment size limit");
      return false;
    }
    return true;
  }

  void on_cluster_child(const ebml::ElementHeader& h, std::span<const std::uint8_t> raw) {
    if (!check_cluster_child(h, cluster_end, cluster_unknown)) return;
    if (!timecode_parsed && h.id != mkv_id::kTimecode && h.id != mkv_id::kVoid && h.id != mkv_id::kCrc32) {
      return invalid("Cluster child " + hex_id(h.id) + " before the Cluster Timecode");
    }
    append_cluster(raw);
    switch (h.id) {
      case mkv_id::kTimecode:
        if (timecode_parsed) return invalid("second Timecode in a Cluster");
        if (h.size > kMaxIntegerPayload) return invalid("Timecode longer than 8 bytes");
        mode = Mode::buffer;
        remaining = h.size;
        buffer.clear();
        buffer_header_length = 0;
        return;
      case mkv_id::kPosition:
      case mkv_id::kPrevSize:
        if (h.size > kMaxIntegerPayload) return invalid("integer element longer than 8 bytes");
        return start_skip(h);
      case mkv_id::kSimpleBlock:
        return start_block(h, true);
      case mkv_id::kBlockGroup:
        group_active = true;
        group_end = pos + h.size;
        group_has_block = false;
        group_has_reference = false;
        group_frames = 0;
        return;
      default:  // Void, CRC-32, SilentTracks
        return start_skip(h);
    }
  }

  void on_group_child(const ebml::ElementHeader& h, std::span<const std::uint8_t> raw) {
    if (!check_cluster_child(h, group_end, false)) return;
    append_cluster(raw);
    switch (h.id) {
      case mkv_id::kBlock:
        if (group_has_block) return invalid("second Block in a BlockGroup");
        group_has_block = true;
        return start_block(h, false);
      case mkv_id::kReferenceBlock:
        group_has_reference = true;
        [[fallthrough]];
      case mkv_id::kBlockDuration:
        if (h.size > kMaxIntegerPayload) return invalid("integer element longer than 8 bytes");
        return start_skip(h);
      case mkv_id::kBlockAdditions:
      case mkv_id::kReferencePriority:
      case mkv_id::kCodecState:
      case mkv_id::kDiscardPadding:
      case mkv_id::kVoid:
      case mkv_id::kCrc32:
        return start_skip(h);
      default:
        return invalid("element " + hex_id(h.id) + " is not allowed in a BlockGroup");
    }
  }

  void end_group() {
    group_active = false;
    if (group_has_block && !group_has_reference) stats.add_key_frames(group_track, group_frames);
  }

  void start_block(const ebml::ElementHeader& h, bool simple) {
    if (h.size < kMinBlockSize) return invalid("block shorter than its header");
    mode = Mode::block_head;
    remaining = h.size;
    block_size = h.size;
    block_simple = simple;
    block_head_filled = 0;
    block_head_needed = 1;
  }

  void on_block_header() {
    std::string why;
    const auto head = decode_block_head({block_head.data(), block_head_filled}, remaining, why);
    if (!head) return invalid(why);
    const auto& tracks = header.tracks;
    std::size_t index = 0;
    while (index < tracks.size() && tracks[index].number != head->track_number) ++index;
    if (index == tracks.size()) {
      return fail(IngestErrorId::track_number_mismatch,
                  "block for track " + std::to_string(head->track_number) + " which is not in Tracks");
    }
    const auto relative = head->relative_timecode;
    const auto frames = head->frames;
    if (relative > 0 && static_cast<std::uint64_t>(relative) > max_relative_timecode()) {
      return fail(IngestErrorId::fragment_duration_reached, "block timecode beyond the fragment duration limit");
    }
    stats.add_block(index, relative, frames, block_simple && head->key());
    if (!block_simple) {
      group_track = index;
      group_frames = frames;
    }
  }

  // Largest block timecode (scale units, relative to the cluster) within max_fragment_duration_ms;
  // relative * scale > limit_ns exactly when relative > limit_ns / scale (no overflow).
  std::uint64_t max_relative_timecode() const {
    if (limits.max_fragment_duration_ms <= 0) return 0;
    constexpr std::uint64_t kNsPerMs = 1'000'000;
    const auto ms = static_cast<std::uint64_t>(limits.max_fragment_duration_ms);
    const std::uint64_t limit_ns = ms > std::numeric_limits<std::uint64_t>::max() / kNsPerMs
                                       ? std::numeric_limits<std::uint64_t>::max()
                                       : ms * kNsPerMs;
    return limit_ns / header.timecode_scale_ns;
  }

  void on_cluster_timecode(std::span<const std::uint8_t> payload) {
    const std::uint64_t timecode = ebml::read_uint(payload).value_or(0);
    if (last_cluster_timecode && timecode < *last_cluster_timecode) {
      fail(IngestErrorId::timecode_not_monotonic, "Cluster timecode " + std::to_string(timecode) +
                                                      " lower than the previous " +
                                                      std::to_string(*last_cluster_timecode));
      if (error) error->cluster_timecode = timecode;
      return;
    }
    if (const auto problem = metadata.take_problem()) {
      fail(IngestErrorId::metadata_limit_reached, *problem);
      if (error) error->cluster_timecode = timecode;
      return;
    }
    last_cluster_timecode = timecode;
    timecode_parsed = true;
    fragment.cluster_timecode = timecode;
    handler.on_fragment_start(FragmentStart{timecode, fragment.cluster_offset});
  }

  // Reports the open fragment. Only called at an element boundary.
  void close_fragment(bool by_end_of_fragment_tag) {
    if (!fragment_open || error) return;
    if (group_active) end_group();
    if (cluster_active) end_cluster();
    if (error) return;
    fragment.closed_by_end_of_fragment_tag = by_end_of_fragment_tag;
    stats.fill(header, fragment);
    const std::uint64_t size = fragment.cluster_size;
    reserve_hint = static_cast<std::size_t>(std::min<std::uint64_t>(size + size / 8, limits.max_fragment_bytes));
    fragment_open = false;
    handler.on_fragment(std::move(fragment));
    fragment = Fragment{};
  }

  std::optional<IngestError> finish() {
    if (error) return error;
    if (finished) return std::nullopt;
    finished = true;
    const bool at_boundary = mode == Mode::header && !header_reader.partial();
    if (at_boundary) close_finished_levels();
    if (error) return error;
    // A Cluster (or BlockGroup) of known size that has not ended yet is truncated.
    const bool complete = at_boundary && !group_active && !(cluster_active && !cluster_unknown);
    if (fragment_open && complete && (!cluster_active || timecode_parsed)) {
      close_fragment(false);
    } else {  // the open fragment is not stored; a cut inside an element is reported
      fragment_open = cluster_active = false;
      fragment = Fragment{};
      ended_inside_element = !complete && pos > 0;
    }
    return error;
  }
};

MkvIngestParser::MkvIngestParser(Handler& handler, IngestLimits limits, ClusterBytes cluster_bytes)
    : impl_(std::make_unique<Impl>(handler, limits, cluster_bytes == ClusterBytes::copy)) {}

MkvIngestParser::~MkvIngestParser() = default;

std::optional<IngestError> MkvIngestParser::feed(std::span<const std::uint8_t> bytes) { return impl_->feed(bytes); }

std::optional<IngestError> MkvIngestParser::finish() { return impl_->finish(); }

bool MkvIngestParser::ended_inside_element() const noexcept { return impl_->ended_inside_element; }

std::uint64_t MkvIngestParser::bytes_consumed() const noexcept { return impl_->pos; }

std::optional<MkvIngestParser::ClusterExtent> MkvIngestParser::open_cluster() const noexcept {
  if (!impl_->fragment_open) return std::nullopt;
  return ClusterExtent{impl_->fragment.cluster_offset, impl_->fragment.cluster_size};
}

}  // namespace kvsd::media
