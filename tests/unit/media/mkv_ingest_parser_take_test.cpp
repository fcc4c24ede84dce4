// MkvIngestParser::take_cluster_bytes(): streaming an open fragment's Cluster bytes out before it
// closes. Taken bytes followed by on_fragment's cluster_bytes are the Cluster byte for byte,
// wherever the takes happen; taken_bytes counts them; the fragment size limit counts them too.

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "mkv_test_support.hpp"

namespace kvsd::media {
namespace {

using namespace testing;  // NOLINT(google-build-using-namespace): test helpers

// Records fragments and checks, inside on_fragment, that nothing counts as buffered any more.
class TakeRecorder : public MkvIngestParser::Handler {
 public:
  void on_header(const StreamHeader& /*header*/) override {}
  void on_fragment_start(const FragmentStart& /*start*/) override {}
  void on_fragment(Fragment&& fragment) override {
    EXPECT_EQ(parser->buffered_cluster_bytes(), 0u) << "inside on_fragment of fragment " << fragments.size();
    fragments.push_back(std::move(fragment));
  }
  MkvIngestParser* parser = nullptr;
  std::vector<Fragment> fragments;
};

struct TakeRun {
  std::vector<Fragment> fragments;
  // Bytes taken while fragment i was open, in order (index: the fragment they belong to, which
  // is the next one on_fragment reports; one more entry for a fragment that never closed).
  std::vector<Bytes> taken;
  std::optional<IngestError> error;
  std::size_t buffered_after_finish = 0;
};

// Feeds `body` in pieces ending at `cuts` (then the rest) and, after each piece for which
// `take_after[i]` holds, takes every buffered Cluster byte.
TakeRun run_with_takes(std::span<const std::uint8_t> body, const std::vector<std::size_t>& cuts,
                       const std::vector<bool>& take_after, const IngestLimits& limits = {}) {
  TakeRecorder rec;
  MkvIngestParser parser(rec, limits);
  rec.parser = &parser;
  TakeRun run;
  std::size_t from = 0;
  for (std::size_t i = 0; i <= cuts.size() && !run.error; ++i) {
    const std::size_t to = i < cuts.size() ? cuts[i] : body.size();
    run.error = parser.feed(body.subspan(from, to - from));
    from = to;
    if (run.error || i >= take_after.size() || !take_after[i]) continue;
    const std::size_t buffered = parser.buffered_cluster_bytes();
    const Bytes taken = parser.take_cluster_bytes(64);
    EXPECT_EQ(taken.size(), buffered) << "piece " << i;
    EXPECT_EQ(parser.buffered_cluster_bytes(), 0u) << "after the take of piece " << i;
    if (taken.empty()) continue;
    const std::size_t owner = rec.fragments.size();
    if (run.taken.size() <= owner) run.taken.resize(owner + 1);
    append(run.taken[owner], taken);
  }
  if (!run.error) run.error = parser.finish();
  run.buffered_after_finish = parser.buffered_cluster_bytes();
  run.fragments = std::move(rec.fragments);
  if (run.taken.size() < run.fragments.size()) run.taken.resize(run.fragments.size());
  return run;
}

TakeRun run_untaken(std::span<const std::uint8_t> body, const IngestLimits& limits = {}) {
  return run_with_takes(body, {}, {}, limits);
}

// Every byte a piece: a take after each.
TakeRun run_taking_every_byte(std::span<const std::uint8_t> body, const IngestLimits& limits = {}) {
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < body.size(); ++i) cuts.push_back(i);
  return run_with_takes(body, cuts, std::vector<bool>(cuts.size() + 1, true), limits);
}

// Compares a run with takes against the untaken parse of the same body: same fragments, whose
// taken bytes + cluster_bytes are the untaken cluster_bytes.
void expect_same_fragments(const TakeRun& taken, const TakeRun& whole, const std::string& where) {
  ASSERT_EQ(taken.fragments.size(), whole.fragments.size()) << where;
  for (std::size_t i = 0; i < whole.fragments.size(); ++i) {
    const auto& got = taken.fragments[i];
    const auto& want = whole.fragments[i];
    Bytes rebuilt = taken.taken[i];
    append(rebuilt, got.cluster_bytes);
    EXPECT_EQ(rebuilt, want.cluster_bytes) << where << ", fragment " << i;
    EXPECT_EQ(got.taken_bytes, taken.taken[i].size()) << where << ", fragment " << i;
    EXPECT_EQ(want.taken_bytes, 0u) << where << ", fragment " << i;
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

TEST(MkvIngestParserTake, TakeAtEverySplitPointRebuildsEveryCluster) {
  Layout at;
  const Bytes body = sample_body(&at);
  const TakeRun whole = run_untaken(body);
  ASSERT_FALSE(whole.error);
  ASSERT_EQ(whole.fragments.size(), 3u);
  EXPECT_EQ(whole.buffered_after_finish, 0u);
  std::size_t cuts_with_bytes_taken = 0;
  for (std::size_t cut = 0; cut <= body.size(); ++cut) {
    const TakeRun split = run_with_takes(body, {cut}, {true});
    const std::string where = "cut at " + std::to_string(cut);
    ASSERT_FALSE(split.error) << where;
    expect_same_fragments(split, whole, where);
    EXPECT_EQ(split.buffered_after_finish, 0u) << where;
    std::size_t taken = 0;
    for (const auto& t : split.taken) taken += t.size();
    if (taken > 0) ++cuts_with_bytes_taken;
    // Before the first Cluster and between the END_OF_FRAGMENT tag and the next Cluster no
    // fragment is open: nothing is buffered, nothing can be taken.
    const bool none_open = cut <= at.first_cluster || (cut >= at.end_of_fragment && cut <= at.second_cluster);
    if (none_open) {
      EXPECT_EQ(taken, 0u) << where;
    }
    // Of the last Cluster, at most what was received of it is taken (while its ID and size are
    // incomplete, what is taken is the previous fragment's, still open); everything at an
    // element boundary and inside a frame's bytes (which are not held back until complete).
    const std::size_t taken_last = split.taken.size() > 2 ? split.taken[2].size() : 0;
    if (cut > at.third_cluster) {
      EXPECT_LE(taken_last, cut - at.third_cluster) << where;
      const bool whole_so_far = cut == at.third_first_block || cut == at.third_last_block || cut >= at.last_payload;
      if (whole_so_far) {
        EXPECT_EQ(taken_last, cut - at.third_cluster) << where;
      }
    } else {
      EXPECT_EQ(taken_last, 0u) << where;
    }
  }
  EXPECT_GT(cuts_with_bytes_taken, body.size() / 2);  // the takes did happen
}

TEST(MkvIngestParserTake, TakeAfterEveryByteRebuildsEveryCluster) {
  const Bytes body = sample_body();
  const TakeRun whole = run_untaken(body);
  const TakeRun bytewise = run_taking_every_byte(body);
  ASSERT_FALSE(bytewise.error);
  expect_same_fragments(bytewise, whole, "a take after every byte");
  // Fragment 2 closes at finish(): at most its last byte is left for on_fragment.
  ASSERT_EQ(bytewise.fragments.size(), 3u);
  EXPECT_LE(bytewise.fragments[2].cluster_bytes.size(), 1u);
  EXPECT_EQ(bytewise.fragments[2].taken_bytes + bytewise.fragments[2].cluster_bytes.size(),
            whole.fragments[2].cluster_bytes.size());
}

TEST(MkvIngestParserTake, TakenBytesOfAFragmentThatNeverClosesBelongToNoFragment) {
  Layout at;
  const Bytes body = sample_body(&at);
  const Bytes truncated(body.begin(), body.end() - 3);  // inside the last SimpleBlock
  const TakeRun whole = run_untaken(truncated);
  ASSERT_FALSE(whole.error);
  ASSERT_EQ(whole.fragments.size(), 2u);  // the truncated one is dropped
  const TakeRun bytewise = run_taking_every_byte(truncated);
  ASSERT_FALSE(bytewise.error);
  expect_same_fragments(bytewise, whole, "truncated body");
  EXPECT_EQ(bytewise.buffered_after_finish, 0u);
  ASSERT_EQ(bytewise.taken.size(), 3u);
  EXPECT_EQ(bytewise.taken[2],
            Bytes(truncated.begin() + static_cast<std::ptrdiff_t>(at.third_cluster), truncated.end()));
}

TEST(MkvIngestParserTake, FragmentSizeLimitCountsTakenBytes) {
  const Bytes cluster = cat({cluster_start(1000), simple_block(1, 0, true, 30), simple_block(1, 40, false, 30)});
  const Bytes body = cat({stream_header(), cluster});
  IngestLimits limits;
  limits.max_fragment_bytes = cluster.size();
  const TakeRun fits = run_taking_every_byte(body, limits);
  ASSERT_FALSE(fits.error);
  ASSERT_EQ(fits.fragments.size(), 1u);
  EXPECT_EQ(fits.fragments[0].taken_bytes + fits.fragments[0].cluster_bytes.size(), cluster.size());

  limits.max_fragment_bytes = cluster.size() - 1;
  const TakeRun untaken = run_untaken(body, limits);
  ASSERT_TRUE(untaken.error);
  EXPECT_EQ(untaken.error->id, IngestErrorId::fragment_size_reached);
  // Taken after every byte, and taken once just before the last SimpleBlock: the limit is
  // still reached.
  const TakeRun bytewise = run_taking_every_byte(body, limits);
  ASSERT_TRUE(bytewise.error);
  EXPECT_EQ(bytewise.error->id, IngestErrorId::fragment_size_reached);
  EXPECT_TRUE(bytewise.fragments.empty());
  const std::size_t last_block = body.size() - simple_block(1, 40, false, 30).size();
  const TakeRun once = run_with_takes(body, {last_block}, {true}, limits);
  ASSERT_TRUE(once.error);
  EXPECT_EQ(once.error->id, IngestErrorId::fragment_size_reached);
  ASSERT_EQ(once.taken.size(), 1u);
  EXPECT_EQ(once.taken[0].size(), last_block - stream_header().size());
  EXPECT_TRUE(once.fragments.empty());
}

}  // namespace
}  // namespace kvsd::media
