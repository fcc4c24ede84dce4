// libFuzzer target for GetImages' decoding path: the input is a Matroska body (as PutMedia sends
// it); every complete fragment the ingest parser cuts from it goes through
// av::extract_fragment_images at a few instants (PNG, scaled small to stay fast), and its raw
// Cluster bytes through av::read_cluster_frames. Oracle: no crash, no hang; one result per
// instant; an ok image has bytes, an error image none.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <vector>

#include "av/cluster_frames.hpp"
#include "av/fragment_images.hpp"
#include "fragment_collector.hpp"

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz invariant violated: %s\n", what);
    std::abort();
  }
}

constexpr std::size_t kMaxFragments = 4;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> input(data, size);
  (void)kvsd::av::read_cluster_frames(input, 1);
  kvsd::fuzz::FragmentCollector collect(kMaxFragments);
  collect.parse(input);
  kvsd::av::ImageOptions options;
  options.format = kvsd::av::ImageFormat::png;
  options.height = 16;
  const std::vector<std::int64_t> instants{0, 40'000'000, 400'000'000};
  for (const auto& [header, cluster] : collect.fragments) {
    (void)kvsd::av::read_cluster_frames(cluster, 2);
    const auto out = kvsd::av::extract_fragment_images(header, cluster, instants, options);
    check(out.images.size() == instants.size(), "one result per instant");
    for (const auto& image : out.images) {
      const bool ok = image.status == kvsd::av::ImageStatus::ok;
      check(ok == (image.bytes != nullptr), "ok images, and only they, have bytes");
      if (ok) check(!image.bytes->empty(), "an image is not empty");
    }
  }
  return 0;
}
