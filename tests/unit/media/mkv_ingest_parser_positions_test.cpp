// MkvIngestParser with ClusterBytes::positions: fragments carry where their Cluster is in the
// body instead of a copy of it, and open_cluster() tells how much of the open one is known. The
// positions cut out of the body are the bytes the copying parser reports, wherever the body is
// split; the fragment size limit holds the same.

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "mkv_test_support.hpp"

namespace kvsd::media {
namespace {

using namespace testing;  // NOLINT(google-build-using-namespace): test helpers

class Recorder : public MkvIngestParser::Handler {
 public:
  void on_header(const StreamHeader& /*header*/) override {}
  void on_fragment_start(const FragmentStart& start) override { starts.push_back(start); }
  void on_fragment(Fragment&& fragment) override { fragments.push_back(std::move(fragment)); }
  std::vector<FragmentStart> starts;
  std::vector<Fragment> fragments;
};

struct ParseRun {
  std::vector<FragmentStart> starts;
  std::vector<Fragment> fragments;
  // open_cluster() after each piece (before finish()), and after finish().
  std::vector<std::optional<MkvIngestParser::ClusterExtent>> open;
  std::optional<MkvIngestParser::ClusterExtent> open_after_finish;
  std::optional<IngestError> error;
  bool ended_inside_element = false;  // after finish()
};

// Feeds `body` in pieces ending at `cuts` (then the rest), then finish().
ParseRun parse(std::span<const std::uint8_t> body, const std::vector<std::size_t>& cuts, ClusterBytes mode,
               const IngestLimits& limits = {}) {
  Recorder rec;
  MkvIngestParser parser(rec, limits, mode);
  ParseRun out;
  std::size_t from = 0;
  for (std::size_t i = 0; i <= cuts.size() && !out.error; ++i) {
    const std::size_t to = i < cuts.size() ? cuts[i] : body.size();
    out.error = parser.feed(body.subspan(from, to - from));
    from = to;
    out.open.push_back(parser.open_cluster());
  }
  if (!out.error) out.error = parser.finish();
  out.ended_inside_element = parser.ended_inside_element();
  out.open_after_finish = parser.open_cluster();
  out.starts = std::move(rec.starts);
  out.fragments = std::move(rec.fragments);
  return out;
}

std::vector<std::size_t> every_byte(std::size_t size) {
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < size; ++i) cuts.push_back(i);
  return cuts;
}

Bytes slice(std::span<const std::uint8_t> body, std::uint64_t offset, std::uint64_t size) {
  return Bytes(body.begin() + static_cast<std::ptrdiff_t>(offset),
               body.begin() + static_cast<std::ptrdiff_t>(offset + size));
}

// A positions run against the copying parse of the same body: the same fragments, whose body
// ranges hold exactly the copied cluster bytes.
void expect_same_fragments(std::span<const std::uint8_t> body, const ParseRun& positions, const ParseRun& copied,
                           const std::string& where) {
  ASSERT_EQ(positions.fragments.size(), copied.fragments.size()) << where;
  ASSERT_EQ(positions.starts.size(), copied.starts.size()) << where;
  for (std::size_t i = 0; i < copied.fragments.size(); ++i) {
    const auto& got = positions.fragments[i];
    const auto& want = copied.fragments[i];
    EXPECT_TRUE(got.cluster_bytes.empty()) << where << ", fragment " << i;
    EXPECT_EQ(got.cluster_offset, want.cluster_offset) << where << ", fragment " << i;
    EXPECT_EQ(got.cluster_size, want.cluster_bytes.size()) << where << ", fragment " << i;
    EXPECT_EQ(slice(body, got.cluster_offset, got.cluster_size), want.cluster_bytes) << where << ", fragment " << i;
    EXPECT_EQ(positions.starts[i].cluster_offset, got.cluster_offset) << where << ", fragment " << i;
    EXPECT_EQ(got.cluster_timecode, want.cluster_timecode) << where << ", fragment " << i;
    EXPECT_EQ(got.metadata, want.metadata) << where << ", fragment " << i;
    EXPECT_EQ(got.duration, want.duration) << where << ", fragment " << i;
    EXPECT_EQ(got.closed_by_end_of_fragment_tag, want.closed_by_end_of_fragment_tag) << where << ", fragment " << i;
    ASSERT_EQ(got.tracks.size(), want.tracks.size()) << where << ", fragment " << i;
    for (std::size_t t = 0; t < want.tracks.size(); ++t) {
      EXPECT_EQ(got.tracks[t].frames, want.tracks[t].frames) << where << ", fragment " << i;
      EXPECT_EQ(got.tracks[t].key_frames, want.tracks[t].key_frames) << where << ", fragment " << i;
    }
  }
}

// Where the sample body's parts start, for the checks that depend on the position.
struct Layout {
  std::size_t first_cluster = 0;      // start of the first Cluster
  std::size_t end_of_fragment = 0;    // end of the END_OF_FRAGMENT Tags that close fragment 0
  std::size_t second_cluster = 0;     // start of the second Cluster
  std::size_t third_cluster = 0;      // start of the third Cluster
  std::size_t third_first_block = 0;  // start of the third Cluster's first SimpleBlock
  std::size_t third_last_block = 0;   // start of the third Cluster's last SimpleBlock
  std::size_t last_payload = 0;       // start of the last SimpleBlock's frame bytes
};

// Three fragments: one closed by an END_OF_FRAGMENT tag (with metadata Tags after its Cluster),
// one by the next Cluster (with metadata that arrived while no fragment was open), one by finish().
Bytes sample_body(Layout* layout = nullptr) {
  Layout at;
  Bytes body = stream_header();
  append(body, tags({{"BEFORE", "b"}}));
  at.first_cluster = body.size();
  append(body, cluster_start(1000));
  append(body, simple_block(1, 0, true, 20));
  append(body, simple_block(2, 5, true, 7));
  append(body, simple_block(1, 40, false, 9));
  append(body, tags({{"K", "V"}}));
  append(body, end_of_fragment_tags());
  at.end_of_fragment = body.size();
  append(body, tags({{"NEXT", "n"}}));
  at.second_cluster = body.size();
  append(body, cluster_start(1120));
  append(body, simple_block(1, 0, true, 15));
  append(body, element(0xA0, cat({element(0xA1, Bytes{0x81, 0x00, 0x28, 0x00, 0x33}), uint_element(0xFB, 0xD8)})));
  at.third_cluster = body.size();
  append(body, cluster_start(1200));
  at.third_first_block = body.size();
  append(body, simple_block(1, 0, true, 11));
  at.third_last_block = body.size();
  append(body, simple_block(1, 40, false, 5));
  at.last_payload = body.size() - 5;
  if (layout != nullptr) *layout = at;
  return body;
}

TEST(MkvIngestParserPositions, CopyModeReportsPositionsToo) {
  const Bytes body = sample_body();
  const ParseRun copied = parse(body, {}, ClusterBytes::copy);
  ASSERT_FALSE(copied.error);
  ASSERT_EQ(copied.fragments.size(), 3u);
  for (const auto& f : copied.fragments) {
    EXPECT_EQ(f.cluster_size, f.cluster_bytes.size());
    EXPECT_EQ(slice(body, f.cluster_offset, f.cluster_size), f.cluster_bytes);
  }
}

TEST(MkvIngestParserPositions, EverySplitPointGivesTheCopiedClusters) {
  Layout at;
  const Bytes body = sample_body(&at);
  const ParseRun copied = parse(body, {}, ClusterBytes::copy);
  ASSERT_FALSE(copied.error);
  ASSERT_EQ(copied.fragments.size(), 3u);
  for (std::size_t cut = 0; cut <= body.size(); ++cut) {
    const ParseRun split = parse(body, {cut}, ClusterBytes::positions);
    const std::string where = "cut at " + std::to_string(cut);
    ASSERT_FALSE(split.error) << where;
    expect_same_fragments(body, split, copied, where);
    EXPECT_FALSE(split.open_after_finish) << where;
    // After the first piece: no fragment is open before the first Cluster and between the
    // END_OF_FRAGMENT tag and the next Cluster. In the last Cluster, what is known of it is
    // never more than was received, and all of it at an element boundary or inside a frame's
    // bytes (which are not held back until complete).
    const auto& open = split.open.front();
    if (cut <= at.first_cluster || (cut >= at.end_of_fragment && cut <= at.second_cluster)) {
      EXPECT_FALSE(open) << where;
    }
    // While the third Cluster's ID and size are incomplete, the second fragment is still the
    // open one (the header could have been of a child), with every byte of its Cluster known.
    if (cut > at.third_cluster) {
      ASSERT_TRUE(open) << where;
      if (open->offset == at.second_cluster) {
        EXPECT_EQ(open->size, at.third_cluster - at.second_cluster) << where;
        EXPECT_LT(cut, at.third_first_block) << where;
      } else {
        EXPECT_EQ(open->offset, at.third_cluster) << where;
        EXPECT_LE(open->size, cut - at.third_cluster) << where;
      }
      if (cut == at.third_first_block || cut == at.third_last_block || cut >= at.last_payload) {
        EXPECT_EQ(open->offset, at.third_cluster) << where;
        EXPECT_EQ(open->size, cut - at.third_cluster) << where;
      }
    }
  }
}

TEST(MkvIngestParserPositions, ByteAtATimeTheOpenExtentOnlyGrows) {
  const Bytes body = sample_body();
  const ParseRun copied = parse(body, {}, ClusterBytes::copy);
  const ParseRun bytewise = parse(body, every_byte(body.size()), ClusterBytes::positions);
  ASSERT_FALSE(bytewise.error);
  expect_same_fragments(body, bytewise, copied, "a byte at a time");
  // Within one fragment the known part grows and never passes the fragment's final size.
  std::optional<MkvIngestParser::ClusterExtent> previous;
  for (std::size_t i = 0; i < bytewise.open.size(); ++i) {
    const auto& open = bytewise.open[i];
    if (!open) {
      previous.reset();
      continue;
    }
    const Fragment* owner = nullptr;
    for (const auto& f : copied.fragments)
      if (f.cluster_offset == open->offset) owner = &f;
    ASSERT_NE(owner, nullptr) << "after byte " << i + 1;
    EXPECT_LE(open->size, owner->cluster_bytes.size()) << "after byte " << i + 1;
    if (previous && previous->offset == open->offset) {
      EXPECT_GE(open->size, previous->size) << "after byte " << i + 1;
    }
    previous = open;
  }
}

TEST(MkvIngestParserPositions, ATruncatedClusterIsNoFragment) {
  Layout at;
  const Bytes body = sample_body(&at);
  const Bytes truncated(body.begin(), body.end() - 3);  // inside the last SimpleBlock
  const ParseRun copied = parse(truncated, {}, ClusterBytes::copy);
  ASSERT_FALSE(copied.error);
  ASSERT_EQ(copied.fragments.size(), 2u);  // the truncated one is dropped
  EXPECT_TRUE(copied.ended_inside_element);
  const ParseRun positions = parse(truncated, {}, ClusterBytes::positions);
  ASSERT_FALSE(positions.error);
  expect_same_fragments(truncated, positions, copied, "truncated body");
  ASSERT_TRUE(positions.open.back());
  EXPECT_EQ(positions.open.back()->offset, at.third_cluster);
  EXPECT_EQ(positions.open.back()->size, truncated.size() - at.third_cluster);
  EXPECT_FALSE(positions.open_after_finish);
}

TEST(MkvIngestParserPositions, FragmentSizeLimitHoldsWithoutCopies) {
  const Bytes cluster = cat({cluster_start(1000), simple_block(1, 0, true, 30), simple_block(1, 40, false, 30)});
  const Bytes body = cat({stream_header(), cluster});
  IngestLimits limits;
  limits.max_fragment_bytes = cluster.size();
  const ParseRun fits = parse(body, every_byte(body.size()), ClusterBytes::positions, limits);
  ASSERT_FALSE(fits.error);
  ASSERT_EQ(fits.fragments.size(), 1u);
  EXPECT_EQ(fits.fragments[0].cluster_size, cluster.size());

  limits.max_fragment_bytes = cluster.size() - 1;
  for (const auto mode : {ClusterBytes::copy, ClusterBytes::positions}) {
    const ParseRun over = parse(body, every_byte(body.size()), mode, limits);
    ASSERT_TRUE(over.error);
    EXPECT_EQ(over.error->id, IngestErrorId::fragment_size_reached);
    EXPECT_TRUE(over.fragments.empty());
  }
}

}  // namespace
}  // namespace kvsd::media
