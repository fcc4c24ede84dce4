// libFuzzer target for MkvIngestParser. The input is fed whole, in 1-byte pieces and in pieces of
// sizes taken from the input itself, with small limits so that every limit path is reachable.
// Oracle: the events and the error must not depend on how the body is split; the cluster bytes
// of every fragment must start with the Cluster ID and be the body range its position names;
// the positions mode (no copies) must give the same events; nothing is delivered after an error.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "media/mkv_ingest_parser.hpp"

namespace {

using kvsd::media::ClusterBytes;
using kvsd::media::Fragment;
using kvsd::media::FragmentStart;
using kvsd::media::IngestLimits;
using kvsd::media::MkvIngestParser;
using kvsd::media::StreamHeader;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz invariant violated: %s\n", what);
    std::abort();
  }
}

// Folds every event into a string digest (lengths, timecodes and a rolling hash of the bytes).
class Digest : public MkvIngestParser::Handler {
 public:
  explicit Digest(std::span<const std::uint8_t> body) : body_(body) {}
  void on_header(const StreamHeader& header) override {
    add("H", header.bytes.size());
    hash(header.bytes);
    add("T", header.tracks.size());
  }
  void on_fragment_start(const FragmentStart& start) override { add("S", start.cluster_timecode); }
  void on_fragment(Fragment&& fragment) override {
    check(fragment.cluster_offset <= body_.size() && fragment.cluster_size <= body_.size() - fragment.cluster_offset,
          "the cluster position lies within the body");
    const auto range = body_.subspan(fragment.cluster_offset, fragment.cluster_size);
    if (!fragment.cluster_bytes.empty()) {
      check(fragment.cluster_bytes.size() == range.size() &&
                std::equal(range.begin(), range.end(), fragment.cluster_bytes.begin()),
            "copied cluster bytes are the body range of their position");
    }
    check(range.size() >= 4 && range[0] == 0x1F && range[1] == 0x43, "cluster bytes start with the Cluster ID");
    add("F", fragment.cluster_timecode);
    add("B", range.size());
    hash(range);
    add("M", fragment.metadata.size());
    add("E", fragment.closed_by_end_of_fragment_tag ? 1 : 0);
    add("D", static_cast<std::uint64_t>(fragment.duration));
    for (const auto& t : fragment.tracks) add("K", t.frames * 1000 + t.key_frames);
  }
  std::string text;

 private:
  std::span<const std::uint8_t> body_;
  void add(const char* tag, std::uint64_t v) { text += tag + std::to_string(v) + ","; }
  void hash(std::span<const std::uint8_t> bytes) {
    std::uint64_t h = 1469598103934665603ull;
    for (const auto b : bytes) h = (h ^ b) * 1099511628211ull;
    add("#", h);
  }
};

std::string run(std::span<const std::uint8_t> data, const std::vector<std::size_t>& pieces,
                ClusterBytes mode = ClusterBytes::copy) {
  IngestLimits limits;
  limits.max_tracks = 3;
  limits.max_fragment_bytes = 256 * 1024;
  limits.max_fragment_duration_ms = 10'000;
  limits.max_header_bytes = 16 * 1024;
  limits.max_tags_bytes = 4 * 1024;
  limits.max_metadata_items = 10;
  limits.max_skipped_element_bytes = 64 * 1024;
  Digest digest(data);
  MkvIngestParser parser(digest, limits, mode);
  std::size_t from = 0;
  std::size_t i = 0;
  std::optional<kvsd::media::IngestError> error;
  while (from < data.size() && !error) {
    const std::size_t n = pieces.empty() ? data.size() : std::min(pieces[i++ % pieces.size()], data.size() - from);
    error = parser.feed(data.subspan(from, n));
    from += n;
    if (const auto open = parser.open_cluster()) {
      check(open->offset <= from && open->size <= from - open->offset, "the open cluster lies within the bytes fed");
    }
  }
  if (!error) error = parser.finish();
  std::string out = digest.text;
  if (error) {
    const std::size_t before = digest.text.size();
    // Sticky: later calls return the same error and deliver nothing.
    const std::uint8_t more[] = {0x1F, 0x43, 0xB6, 0x75, 0xFF};
    const auto again = parser.feed(more);
    check(again.has_value() && again->id == error->id, "errors are sticky");
    check(digest.text.size() == before, "no events after an error");
    out += "error" + std::to_string(static_cast<int>(error->id));
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> input(data, size);
  const std::string whole = run(input, {});
  check(run(input, {1}) == whole, "1-byte pieces give the same events");
  check(run(input, {}, ClusterBytes::positions) == whole, "positions give the same events");
  check(run(input, {1}, ClusterBytes::positions) == whole, "positions in 1-byte pieces give the same events");
  std::vector<std::size_t> pieces;
  for (std::size_t i = 0; i < size && pieces.size() < 16; i += 97) pieces.push_back(1 + data[i] % 61);
  if (!pieces.empty()) check(run(input, pieces) == whole, "input-driven pieces give the same events");
  return 0;
}
