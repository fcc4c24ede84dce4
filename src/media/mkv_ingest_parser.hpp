#pragma once
// MkvIngestParser: the sans-I/O parser of one PutMedia body. It reads the Matroska stream the
// KVS producers send (EBML header, one Segment of unknown or known size, Info, Tracks, then
// Clusters and Tags) and cuts it into fragments. It never touches sockets or files: the caller
// feeds bytes as they arrive and receives events through the Handler it passed in.
//
// Fragments. A fragment is one Cluster plus the user metadata Tags that follow it. It closes at
// the first of: the next Cluster, a Tags element holding the SimpleTag
// AWS_KINESISVIDEO_END_OF_FRAGMENT, a new EBML header / Tracks, or finish() (end of body). The
// producers withhold the end of the body until the last fragment is acknowledged, so the parser
// must never wait for the next Cluster to close a fragment that an END_OF_FRAGMENT tag closed.
// Metadata Tags that arrive while no fragment is open (after an END_OF_FRAGMENT, before the next
// Cluster) are attached to the next fragment, unless an END_OF_FRAGMENT tag comes before that
// Cluster: then they and it are the end of a fragment that is not in this body (an orphan), and
// are discarded: the SDK's replay after a reconnect can begin with, or contain, the closing Tags
// of fragments whose frames it dropped (docs/storage.md, "Reconnect bodies").
//
// Structure. A second EBML header is accepted where it can only follow a complete fragment (at
// Segment level of an unknown-size Segment, or after a known-size Segment ended): it closes the
// open fragment and starts a new document whose Tracks produce on_header again. Cluster timecodes
// must not go back across documents of one body. Unknown-size Clusters end at the first element
// that is not a Cluster child; inside a known-size Cluster such an element is 4006.
//
// Errors. The first error ends parsing: feed() and finish() return it, no further events are
// delivered, and later calls return the same error. A fragment that was open when the error
// occurred is never reported complete. Each error carries the KVS ACK ErrorId it maps to.
// Metadata waiting for the next Cluster that break a limit are reported (4009) at that Cluster's
// Timecode, with IngestError::cluster_timecode, not when they arrive.
//
// Threading: none. One parser per upload, used from one strand.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace kvsd::media {

// Named limits on what a body may contain (configurable through the [ingest] config section).
struct IngestLimits {
  std::size_t max_tracks = 3;                      // more: ErrorId 4005
  std::uint64_t max_fragment_bytes = 50ull << 20;  // Cluster bytes; more: 4001
  std::int64_t max_fragment_duration_ms = 20'000;  // last block - cluster timecode; more: 4002
  std::uint64_t max_header_bytes = 1ull << 20;     // EBML header + Info + Tracks; more: 4006
  std::uint64_t max_tags_bytes = 1ull << 20;       // one Tags element; more: 4006
  std::size_t max_metadata_items = 10;             // user SimpleTags per fragment (or waiting for one); more: 4009
  std::size_t max_metadata_name_bytes = 128;       // more: 4009
  std::size_t max_metadata_value_bytes = 256;      // more: 4009
  // SeekHead, Cues, Chapters, Attachments, Void and CRC-32 at Segment level are skipped without
  // buffering; one larger than this is 4006.
  std::uint64_t max_skipped_element_bytes = 1ull << 20;
};

// ACK ErrorIds (spec section 3.4) the parser can produce.
enum class IngestErrorId : int {
  fragment_size_reached = 4001,
  fragment_duration_reached = 4002,
  timecode_not_monotonic = 4004,
  too_many_tracks = 4005,
  invalid_mkv = 4006,
  metadata_limit_reached = 4009,
  track_number_mismatch = 4010,
};

struct IngestError {
  IngestErrorId id;
  std::string message;  // for logs: what was wrong and at which body offset
  // The Timecode of the Cluster the error is about when no on_fragment_start was delivered for
  // it (4004: the cluster is rejected at its Timecode; 4009: the metadata written in front of it
  // break a limit), so its ERROR ACK can name it.
  std::optional<std::uint64_t> cluster_timecode;
};

struct TrackInfo {
  std::uint64_t number = 0;  // TrackNumber, what blocks refer to
  std::uint64_t uid = 0;
  std::uint64_t type = 0;  // 1 video, 2 audio
  std::string name;
  std::string codec_id;  // e.g. V_MPEG4/ISO/AVC, V_MPEGH/ISO/HEVC, A_AAC
  std::vector<std::uint8_t> codec_private;
  std::uint64_t pixel_width = 0, pixel_height = 0;  // video, 0 when absent
  double sampling_frequency = 0;                    // audio, 0 when absent
  std::uint64_t channels = 0;                       // audio, 0 when absent
  std::uint64_t default_duration_ns = 0;            // 0 when absent
};

// The stream header in force: what a reader needs before any cluster of it.
struct StreamHeader {
  // EBML header + Segment element header (ID and size as received, typically unknown size) +
  // Info + Tracks, byte for byte as received. When Tracks change mid-stream this is the original
  // EBML header, Segment header and Info followed by the new Tracks element.
  std::vector<std::uint8_t> bytes;
  std::uint64_t timecode_scale_ns = 1'000'000;
  std::vector<TrackInfo> tracks;
};

struct FragmentStart {
  std::uint64_t cluster_timecode = 0;  // the Cluster's Timecode exactly as received (scale units)
  std::uint64_t cluster_offset = 0;    // body offset of the Cluster's first byte
};

// Whether fragments carry their Cluster bytes (copied out of the input as it is fed), or only
// their position in the body (for a caller that keeps the body bytes itself and cuts them out).
enum class ClusterBytes { copy, positions };

struct TrackStats {
  std::uint64_t track_number = 0;
  std::uint64_t frames = 0;
  std::uint64_t key_frames = 0;
  std::int64_t min_timecode = 0;  // block timecodes relative to the cluster, scale units
  std::int64_t max_timecode = 0;
};

struct Fragment {
  std::uint64_t cluster_timecode = 0;
  // The Cluster element as received: its ID, its size field (unknown or known) and every child,
  // up to the start of the element that ended it. Concatenated after the header bytes this is a
  // valid Matroska document. Empty when the parser was made with ClusterBytes::positions.
  std::vector<std::uint8_t> cluster_bytes;
  // Where those bytes are in the body: a Cluster is one contiguous range of it.
  std::uint64_t cluster_offset = 0;
  std::uint64_t cluster_size = 0;
  // User metadata (SimpleTag name, TagString value) in arrival order, AWS_* names excluded.
  std::vector<std::pair<std::string, std::string>> metadata;
  std::vector<TrackStats> tracks;  // one entry per track that had blocks, in track-number order
  // Duration estimate in scale units: last block timecode - first block timecode + one frame
  // interval of the video track (or of the first track) when it can be estimated, else 0 added.
  std::int64_t duration = 0;
  bool closed_by_end_of_fragment_tag = false;
};

class MkvIngestParser {
 public:
  // Receives events synchronously from inside feed()/finish(), in body order:
  // on_header (before the first fragment, and again after every new Tracks/EBML header),
  // on_fragment_start (once the Cluster's Timecode is known), on_fragment (when it closes).
  class Handler {
   public:
    virtual ~Handler() = default;
    virtual void on_header(const StreamHeader& header) = 0;
    virtual void on_fragment_start(const FragmentStart& start) = 0;
    virtual void on_fragment(Fragment&& fragment) = 0;
  };

  MkvIngestParser(Handler& handler, IngestLimits limits = {}, ClusterBytes cluster_bytes = ClusterBytes::copy);
  ~MkvIngestParser();
  MkvIngestParser(const MkvIngestParser&) = delete;
  MkvIngestParser& operator=(const MkvIngestParser&) = delete;

  // Consumes all of `bytes` (buffering what it needs internally). Returns the first error.
  std::optional<IngestError> feed(std::span<const std::uint8_t> bytes);
  // End of body: closes an open fragment if its Cluster is complete up to an element boundary
  // (a truncated SimpleBlock or child is discarded with the whole open fragment, which is not an
  // error). Returns an error only for one found earlier.
  std::optional<IngestError> finish();
  // After finish(): whether the body ended inside an element (a cut, not a clean end between
  // elements). The parser drops the tail either way; PutMedia answers a cut with ERROR 4006.
  [[nodiscard]] bool ended_inside_element() const noexcept;

  [[nodiscard]] std::uint64_t bytes_consumed() const noexcept;

  // Where the open fragment's Cluster bytes are in the body: they start at `offset` and the
  // first `size` of them are known to belong to it (an element header still being read is not
  // counted until it is complete). Empty while no fragment is open.
  struct ClusterExtent {
    std::uint64_t offset = 0;
    std::uint64_t size = 0;
  };
  [[nodiscard]] std::optional<ClusterExtent> open_cluster() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kvsd::media
