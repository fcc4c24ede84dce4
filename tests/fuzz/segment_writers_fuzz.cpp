// libFuzzer target for the writers of what players download: the input is a Matroska body (as
// PutMedia sends it); every complete fragment the ingest parser cuts from it goes through the
// fMP4 init and media segment writers (HLS/DASH), the MPEG-TS chunk writer and GetClip's MP4
// remux. Oracle: no crash, no hang; whatever a writer returns as a success is well formed at the
// container level: fMP4 and MP4 are a sequence of boxes whose sizes add up to the output (init:
// ftyp then moov; media: styp, moof, mdat; clip: ftyp first, one moov, one mdat), and a TS chunk is
// whole 188-byte packets, each starting with the sync byte 0x47.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "av/mp4_clip.hpp"
#include "av/ts_segment.hpp"
#include "fragment_collector.hpp"
#include "fuzz_support.hpp"
#include "media/hls_segments.hpp"

namespace {

using kvsd::fuzz::check;
using Bytes = std::vector<std::uint8_t>;

constexpr std::size_t kMaxFragments = 3;

// The top-level box types of an ISO BMFF byte string; aborts unless the sizes add up exactly.
std::vector<std::string> boxes(const Bytes& b) {
  std::vector<std::string> types;
  std::size_t at = 0;
  while (at < b.size()) {
    check(b.size() - at >= 8, "a box header is whole");
    std::uint64_t size =
        (std::uint64_t{b[at]} << 24) | (std::uint64_t{b[at + 1]} << 16) | (std::uint64_t{b[at + 2]} << 8) | b[at + 3];
    std::size_t head = 8;
    if (size == 1) {
      check(b.size() - at >= 16, "a large box header is whole");
      size = 0;
      for (int i = 0; i < 8; ++i) size = size << 8 | b[at + 8 + static_cast<std::size_t>(i)];
      head = 16;
    }
    check(size >= head && size <= b.size() - at, "a box fits in the output");
    types.emplace_back(reinterpret_cast<const char*>(b.data() + at + 4), 4);
    at += static_cast<std::size_t>(size);
  }
  return types;
}

// The value of a writer's result (null for an error, which must say why). `r` must outlive the
// pointer: keep the result in a variable.
template <class T>
const T* ok(const std::variant<T, kvsd::media::MediaError>& r) {
  if (const auto* e = std::get_if<kvsd::media::MediaError>(&r)) {
    check(!e->message.empty(), "an error says what was wrong");
    return nullptr;
  }
  return &std::get<T>(r);
}

void write_segments(const Bytes& header, const Bytes& cluster, std::uint32_t sequence) {
  const auto tracks = kvsd::media::playback_tracks(header, false);
  if (const auto* list = ok(tracks)) {
    for (const auto& t : *list) {
      const auto init_result = kvsd::media::fmp4_init_segment(header, t.track_number);
      if (const auto* init = ok(init_result)) {
        const auto types = boxes(*init);
        if (std::getenv("KVSD_FUZZ_TRACE") != nullptr)
          for (const auto& box : types) std::fprintf(stderr, "init box %s\n", box.c_str());
        check(types.size() >= 2 && types[0] == "ftyp" && types[1] == "moov", "init: ftyp then moov");
      }
      const auto media_result = kvsd::media::fmp4_media_segment(header, cluster, t.track_number, sequence, 1000);
      if (const auto* media = ok(media_result)) {
        const auto types = boxes(*media);
        check(types == std::vector<std::string>({"styp", "moof", "mdat"}), "media segment: styp, moof, mdat");
      }
      (void)kvsd::media::track_timing(header, cluster, t.track_number);
    }
  }
  const auto ts_result = kvsd::av::ts_segment(header, cluster, 1000);
  if (const auto* ts = ok(ts_result)) {
    check(ts->size() % 188 == 0, "TS: whole packets");
    for (std::size_t at = 0; at < ts->size(); at += 188) check((*ts)[at] == 0x47, "TS: sync byte");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  kvsd::fuzz::FragmentCollector collect(kMaxFragments);
  collect.parse(std::span<const std::uint8_t>(data, size));
  std::vector<std::span<const std::uint8_t>> clusters;
  std::uint32_t sequence = 1;
  for (const auto& [header, cluster] : collect.fragments) {
    write_segments(header, cluster, sequence++);
    if (header == collect.fragments.front().first) clusters.emplace_back(cluster);
  }
  if (!clusters.empty()) {
    kvsd::av::ClipLimits limits;
    limits.max_output_bytes = 4u << 20;
    const auto clip = kvsd::av::build_mp4_clip(collect.fragments.front().first, clusters, limits);
    if (const auto* r = std::get_if<kvsd::av::ClipResult>(&clip)) {
      const auto types = boxes(r->mp4);
      check(!types.empty() && types.front() == "ftyp", "clip: ftyp first");
      check(std::count(types.begin(), types.end(), "moov") == 1 && std::count(types.begin(), types.end(), "mdat") == 1,
            "clip: one moov, one mdat");
      check(r->fragments_used >= 1 && r->fragments_used <= clusters.size(), "clip: a prefix of the fragments");
    }
  }
  return 0;
}
