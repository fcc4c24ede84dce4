// MkvIngestParser on the bodies the stock KVS producer SDK sends when it reconnects after the
// server went away (docs/storage.md, "Reconnect bodies"), one shape per test, each fed whole, at
// every single split point and byte by byte:
//
// - an upload that resumes mid-stream with no EBML header (PIC `streamTerminatedEvent` marks the
//   stream NOT_IN_USE when a PutMedia that never streamed fails to connect, so the next
//   `getStreamData` skips the rollback and the header): ERROR 4006 at once, no fragment fields;
// - a replay that starts with, or contains, the END_OF_FRAGMENT Tags of fragments the SDK dropped
//   (orphans: `streamFragmentErrorAck` marks a fragment's frames SKIP but not its END_OF_FRAGMENT
//   item, a fragment boundary): accepted, their metadata discarded;
// - a fragment replayed without its last frames (the SKIP marks run from a frame to the end of its
//   fragment), closed by its END_OF_FRAGMENT, the next Cluster or a new EBML header.

#include <gtest/gtest.h>

#include "mkv_test_support.hpp"

namespace kvsd::media {
namespace {

using namespace testing;  // NOLINT(google-build-using-namespace): test helpers
using Metadata = std::vector<std::pair<std::string, std::string>>;

// The END_OF_FRAGMENT view item of the SDK's realtime sample: each of the fragment's `count`
// metadata items in a Tags element of its own, then the END_OF_FRAGMENT Tags.
Bytes closing_tags(std::uint64_t fragment, int count = 9) {
  Bytes out;
  for (int n = 1; n <= count; ++n) {
    append(out, tags({{"TEST_KEY_" + std::to_string(n), "TEST_VALUE_" + std::to_string(fragment + n)}}));
  }
  append(out, end_of_fragment_tags());
  return out;
}

Metadata closing_metadata(std::uint64_t fragment, int count = 9) {
  Metadata out;
  for (int n = 1; n <= count; ++n) {
    out.emplace_back("TEST_KEY_" + std::to_string(n), "TEST_VALUE_" + std::to_string(fragment + n));
  }
  return out;
}

// One fragment as the sample sends it: the Cluster with a key frame and `frames - 1` others
// (40 ms apart), then its closing Tags.
Bytes fragment_bytes(std::uint64_t timecode, int frames = 4, bool closing = true) {
  Bytes out = cluster_start(timecode);
  for (int i = 0; i < frames; ++i) append(out, simple_block(1, static_cast<std::int16_t>(40 * i), i == 0, 30));
  if (closing) append(out, closing_tags(timecode));
  return out;
}

// Runs `body` whole, split at every position into two pieces, and byte by byte; every run must
// give the same events and the same error. Returns the recorder of the whole run.
Recorder run_all_ways(const Bytes& body, std::optional<IngestErrorId> expected_error = std::nullopt) {
  const BodyRun whole = run_pieces(body, {});
  EXPECT_EQ(whole.error ? std::optional<IngestErrorId>(whole.error->id) : std::nullopt, expected_error)
      << (whole.error ? whole.error->message : std::string());
  for (std::size_t cut = 0; cut <= body.size(); ++cut) {
    const BodyRun split = run_pieces(body, {cut});
    EXPECT_EQ(split.events, whole.events) << "cut at " << cut;
    if (split.events != whole.events) break;
  }
  std::vector<std::size_t> every;
  for (std::size_t i = 1; i < body.size(); ++i) every.push_back(i);
  EXPECT_EQ(run_pieces(body, every).events, whole.events) << "byte by byte";

  Recorder rec;
  MkvIngestParser parser(rec);
  auto err = parser.feed(body);
  if (!err) err = parser.finish();
  EXPECT_EQ(err ? std::optional<IngestErrorId>(err->id) : std::nullopt, expected_error);
  return rec;
}

// ---- an upload that resumes mid-stream ------------------------------------------------------

TEST(MkvIngestParserReconnect, UploadResumingMidClusterIsInvalidMkvWithoutFragmentFields) {
  // What the SDK had sent of a fragment before the connection broke, and what follows it: the
  // new upload continues at the sender's position, without a header.
  const Bytes stream = cat({stream_header(), fragment_bytes(1000, 6), fragment_bytes(1240, 6)});
  const std::size_t first_cluster = stream_header().size();
  // Resuming inside the first fragment: in its blocks, at a block, at the closing Tags, at the
  // next Cluster. Every start is ERROR 4006 before any event.
  for (std::size_t from = first_cluster + 1; from + 12 < stream.size(); from += 7) {
    const Bytes body(stream.begin() + static_cast<std::ptrdiff_t>(from), stream.end());
    const BodyRun run = run_pieces(body, {});
    ASSERT_TRUE(run.error) << "from " << from;
    EXPECT_EQ(run.error->id, IngestErrorId::invalid_mkv) << "from " << from;
    EXPECT_FALSE(run.error->cluster_timecode) << "from " << from;  // the ERROR names no fragment
    EXPECT_EQ(run.events, "error 4006\n") << "from " << from;
  }
  // Split every way, for a start at a Cluster (an item boundary) and one inside a block.
  const Bytes at_cluster(stream.begin() + static_cast<std::ptrdiff_t>(first_cluster), stream.end());
  EXPECT_TRUE(run_all_ways(at_cluster, IngestErrorId::invalid_mkv).fragments.empty());
  const Bytes in_block(stream.begin() + static_cast<std::ptrdiff_t>(first_cluster + 40), stream.end());
  EXPECT_TRUE(run_all_ways(in_block, IngestErrorId::invalid_mkv).fragments.empty());
}

TEST(MkvIngestParserReconnect, UploadResumingAtClosingTagsIsInvalidMkv) {
  const Bytes body = cat({closing_tags(1000), fragment_bytes(1240)});
  const Recorder rec = run_all_ways(body, IngestErrorId::invalid_mkv);
  EXPECT_TRUE(rec.headers.empty());
  EXPECT_TRUE(rec.starts.empty());
}

TEST(MkvIngestParserReconnect, UploadCutBeforeItsFirstElementEndsWithoutError) {
  // Too short to hold one element header (three bytes of a Cluster ID): nothing to judge.
  const Bytes stream = fragment_bytes(1000);
  const BodyRun run = run_pieces(std::span<const std::uint8_t>(stream).first(3), {});
  EXPECT_FALSE(run.error);
  EXPECT_TRUE(run.events.empty());
}

// ---- closing Tags of fragments that are not in the body -------------------------------------

TEST(MkvIngestParserReconnect, TwoFragmentsClosingTagsBeforeTheFirstCluster) {
  // The reported body: header, then the closing Tags of two fragments the SDK had dropped (20
  // Tags elements, 18 metadata items), then the fragments it still had.
  const Bytes body =
      cat({stream_header(), closing_tags(1000), closing_tags(1240), fragment_bytes(1480), fragment_bytes(1720)});
  const Recorder rec = run_all_ways(body);
  ASSERT_EQ(rec.headers.size(), 1u);
  ASSERT_EQ(rec.fragments.size(), 2u);
  EXPECT_EQ(rec.starts, (std::vector<std::uint64_t>{1480, 1720}));
  for (const auto& f : rec.fragments) {
    EXPECT_TRUE(f.closed_by_end_of_fragment_tag);
    EXPECT_EQ(f.metadata, closing_metadata(f.cluster_timecode));  // its own nine, nothing else
    EXPECT_EQ(f.cluster_bytes, fragment_bytes(f.cluster_timecode, 4, false));
  }
}

TEST(MkvIngestParserReconnect, ClosingTagsOfAMissingFragmentBetweenTwoFragments) {
  // Fragment 1240 was dropped (its frames SKIP), its closing Tags were not.
  const Bytes body =
      cat({stream_header(), fragment_bytes(1000), closing_tags(1240), fragment_bytes(1480), closing_tags(1720)});
  const Recorder rec = run_all_ways(body);
  ASSERT_EQ(rec.fragments.size(), 2u);
  EXPECT_EQ(rec.fragments[0].metadata, closing_metadata(1000));
  EXPECT_EQ(rec.fragments[1].metadata, closing_metadata(1480));
}

TEST(MkvIngestParserReconnect, MetadataBeforeAClusterStillGoesToIt) {
  // An orphan's items are dropped, the items the SDK writes in front of a Cluster (persistent
  // metadata, or metadata put before the fragment's first frame) are the Cluster's.
  const Bytes body = cat({stream_header(), closing_tags(1000), tags({{"GPS", "47.6N"}}), tags({{"CAM", "door"}}),
                          fragment_bytes(1240, 4, false), end_of_fragment_tags()});
  const Recorder rec = run_all_ways(body);
  ASSERT_EQ(rec.fragments.size(), 1u);
  EXPECT_EQ(rec.fragments[0].metadata, (Metadata{{"GPS", "47.6N"}, {"CAM", "door"}}));
  EXPECT_TRUE(rec.fragments[0].closed_by_end_of_fragment_tag);
}

TEST(MkvIngestParserReconnect, ManyOrphansInARow) {
  // A long outage: the closing Tags of many dropped fragments, each within the limit.
  Bytes body = stream_header();
  for (std::uint64_t t = 0; t < 12; ++t) append(body, closing_tags(1000 + 240 * t, 10));
  append(body, fragment_bytes(9000));
  const Recorder rec = run_all_ways(body);
  ASSERT_EQ(rec.fragments.size(), 1u);
  EXPECT_EQ(rec.fragments[0].metadata, closing_metadata(9000));
}

TEST(MkvIngestParserReconnect, EndOfFragmentWithoutMetadataOrFragment) {
  // The END_OF_FRAGMENT Tags alone (a fragment without metadata, or the SDK's end-of-stream
  // Tags), before the first Cluster and twice after a fragment: nothing to close, no error.
  const Bytes body = cat({stream_header(), end_of_fragment_tags(), fragment_bytes(1000, 3, false),
                          end_of_fragment_tags(), end_of_fragment_tags()});
  const Recorder rec = run_all_ways(body);
  ASSERT_EQ(rec.fragments.size(), 1u);
  EXPECT_TRUE(rec.fragments[0].metadata.empty());
}

TEST(MkvIngestParserReconnect, MetadataLimitStillHoldsForAFragment) {
  // More than ten items waiting for the next Cluster, with no END_OF_FRAGMENT between: 4009 at
  // that Cluster's Timecode, naming it (an ERROR without a FragmentTimecode would make the SDK
  // drop frames from wherever its sender is), with no fragment start before it.
  Bytes body = stream_header();
  for (int n = 0; n < 11; ++n) append(body, tags({{"K" + std::to_string(n), "v"}}));
  append(body, fragment_bytes(1000));
  EXPECT_TRUE(run_all_ways(body, IngestErrorId::metadata_limit_reached).starts.empty());
  Recorder rec;
  MkvIngestParser parser(rec);
  auto err = parser.feed(body);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->cluster_timecode, std::optional<std::uint64_t>(1000));
  // A value over the size limit in front of a Cluster: the same.
  body = cat({stream_header(), tags({{"BIG", std::string(257, 'v')}}), fragment_bytes(1000)});
  err = MkvIngestParser(rec).feed(body);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->id, IngestErrorId::metadata_limit_reached);
  EXPECT_EQ(err->cluster_timecode, std::optional<std::uint64_t>(1000));
  // Ten of a fragment's own after its Cluster, then an eleventh: 4009 at once (the fragment is
  // open: its ERROR carries its timecode).
  body = cat({stream_header(), fragment_bytes(1000, 2, false), closing_tags(1000, 10)});
  EXPECT_EQ(run_all_ways(body).fragments.size(), 1u);
  body = cat({stream_header(), fragment_bytes(1000, 2, false), closing_tags(1000, 11)});
  EXPECT_TRUE(run_all_ways(body, IngestErrorId::metadata_limit_reached).fragments.empty());
  // An orphan over the limit belongs to no fragment here: dropped, no error.
  body = cat({stream_header(), closing_tags(1000, 11), fragment_bytes(1240)});
  EXPECT_EQ(run_all_ways(body).fragments.size(), 1u);
  // Items over the limit are not kept meanwhile (bounded memory): a long run is dropped too.
  body = stream_header();
  for (int n = 0; n < 500; ++n) append(body, tags({{"K" + std::to_string(n), "v"}}));
  append(body, end_of_fragment_tags());
  append(body, fragment_bytes(1240));
  const BodyRun run = run_pieces(body, {});
  EXPECT_FALSE(run.error);
  EXPECT_EQ(run.fragments, 1u);
}

// ---- fragments replayed without their last frames -------------------------------------------

TEST(MkvIngestParserReconnect, PartialFragmentClosedByItsEndOfFragment) {
  // Fragment 1000 was sent whole before; its replay lost its last frames (SKIP) but kept its
  // closing Tags.
  const Bytes body = cat({stream_header(), fragment_bytes(1000, 2), fragment_bytes(1240, 4)});
  const Recorder rec = run_all_ways(body);
  ASSERT_EQ(rec.fragments.size(), 2u);
  EXPECT_EQ(rec.fragments[0].cluster_bytes, fragment_bytes(1000, 2, false));
  EXPECT_EQ(rec.fragments[0].tracks.at(0).frames, 2u);
  EXPECT_EQ(rec.fragments[0].metadata, closing_metadata(1000));
  EXPECT_EQ(rec.fragments[1].tracks.at(0).frames, 4u);
}

TEST(MkvIngestParserReconnect, PartialFragmentClosedByAFreshHeader) {
  // When the SKIP marks reach the newest frame, the SDK drops frames up to the next key frame and
  // restarts its MKV generator there: a new EBML header follows the partial fragment with no
  // END_OF_FRAGMENT (the sample's EoFr goes before the header, the shape below tests both).
  const Bytes with_eof = cat(
      {stream_header(), fragment_bytes(1000, 2, false), end_of_fragment_tags(), stream_header(), fragment_bytes(1240)});
  Recorder rec = run_all_ways(with_eof);
  ASSERT_EQ(rec.fragments.size(), 2u);
  EXPECT_EQ(rec.headers.size(), 2u);
  EXPECT_TRUE(rec.fragments[0].closed_by_end_of_fragment_tag);

  const Bytes without_eof =
      cat({stream_header(), fragment_bytes(1000, 2, false), stream_header(), fragment_bytes(1240)});
  rec = run_all_ways(without_eof);
  ASSERT_EQ(rec.fragments.size(), 2u);
  EXPECT_FALSE(rec.fragments[0].closed_by_end_of_fragment_tag);
  EXPECT_EQ(rec.fragments[0].cluster_bytes, fragment_bytes(1000, 2, false));
}

TEST(MkvIngestParserReconnect, ReplayEndingInsideABlockKeepsTheFragmentsBefore) {
  // The SDK ends a reset upload wherever its sender is: the open fragment is dropped, the closed
  // ones stay, whatever came before (here an orphan).
  Bytes body = cat({stream_header(), closing_tags(1000), fragment_bytes(1240), fragment_bytes(1480, 3, false)});
  ASSERT_GT(body.size(), 10u);
  body.erase(body.end() - 10, body.end());
  const Recorder rec = run_all_ways(body);
  ASSERT_EQ(rec.fragments.size(), 1u);
  EXPECT_EQ(rec.starts, (std::vector<std::uint64_t>{1240, 1480}));
}

// ---- the same shapes cut from a real SDK body -----------------------------------------------

// The realtime H.264 capture: header 0x000..0x118, fragment 1 (Cluster 0x118, its nine Tags and
// END_OF_FRAGMENT at 0xdffaa..0xe0298), fragment 2 (Cluster 0xe0298, Tags 0x1bf7fe..0x1bfaf5),
// fragment 3 from 0x1bfaf5 (offsets from the mkvinfo dump next to the capture).
class ReconnectCapture : public ::testing::Test {
 protected:
  void SetUp() override {
    body_ = read_file(capture_path("realtime-h264/04-putMedia-full.mkv"));
    ASSERT_GT(body_.size(), 0x1bfaf5u);
  }
  Bytes slice(std::size_t from, std::size_t to) const {
    return Bytes(body_.begin() + static_cast<std::ptrdiff_t>(from), body_.begin() + static_cast<std::ptrdiff_t>(to));
  }
  Bytes body_;
};

TEST_F(ReconnectCapture, ReplayStartingWithTwoFragmentsClosingTags) {
  // Header, the closing Tags of fragments 1 and 2 (20 Tags elements), then fragment 3 onwards.
  const Bytes header = slice(0, 0x118);
  const Bytes body = cat({header, slice(0xdffaa, 0xe0298), slice(0x1bf7fe, 0x1bfaf5), slice(0x1bfaf5, body_.size())});
  Recorder rec;
  MkvIngestParser parser(rec);
  auto err = parser.feed(body);
  ASSERT_FALSE(err) << err->message;
  ASSERT_FALSE(parser.finish());
  ASSERT_FALSE(rec.fragments.empty());
  // Fragment 3 carries only the metadata written after its own Cluster, as in the original body.
  Recorder original;
  MkvIngestParser whole(original);
  ASSERT_FALSE(whole.feed(body_));
  ASSERT_FALSE(whole.finish());
  ASSERT_EQ(original.fragments.size(), rec.fragments.size() + 2);
  for (std::size_t i = 0; i < rec.fragments.size(); ++i) {
    EXPECT_EQ(rec.fragments[i].cluster_timecode, original.fragments[i + 2].cluster_timecode);
    EXPECT_EQ(rec.fragments[i].metadata, original.fragments[i + 2].metadata);
  }
  // Split at every byte of the Tags run and around it.
  const std::size_t tags_end = header.size() + (0xe0298 - 0xdffaa) + (0x1bfaf5 - 0x1bf7fe);
  const Bytes prefix(body.begin(), body.begin() + static_cast<std::ptrdiff_t>(tags_end + 400));
  const BodyRun reference = run_pieces(prefix, {});
  ASSERT_FALSE(reference.error);
  for (std::size_t cut = 1; cut < prefix.size(); ++cut) {
    ASSERT_EQ(run_pieces(prefix, {cut}).events, reference.events) << "cut at " << cut;
  }
}

TEST_F(ReconnectCapture, UploadResumingInsideTheCapture) {
  // Resuming anywhere after the header (a sample of positions, each a possible sender position):
  // ERROR 4006 with no event before it.
  for (std::size_t from = 0x118; from < body_.size() - 16; from += 4099) {
    const Bytes resumed = slice(from, std::min(body_.size(), from + 4096));
    const BodyRun run = run_pieces(resumed, {});
    ASSERT_TRUE(run.error) << "from " << from;
    EXPECT_EQ(run.error->id, IngestErrorId::invalid_mkv) << "from " << from;
    EXPECT_EQ(run.events, "error 4006\n") << "from " << from;
  }
}

}  // namespace
}  // namespace kvsd::media
