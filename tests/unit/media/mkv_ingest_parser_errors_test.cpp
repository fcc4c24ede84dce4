// Failure injection for MkvIngestParser: every ErrorId it can report, stickiness, and what is
// (not) delivered around an error.

#include <gtest/gtest.h>

#include "mkv_test_support.hpp"

namespace kvsd::media {
namespace {

using namespace testing;  // NOLINT(google-build-using-namespace): test helpers

Bytes one_fragment_body() {
  return cat({stream_header(), cluster_start(1000), simple_block(1, 0, true, 10), simple_block(1, 40, false, 10)});
}

std::optional<IngestErrorId> error_of(const Bytes& body, const IngestLimits& limits = {}) {
  const BodyRun run = run_pieces(body, {}, limits);
  if (!run.error) return std::nullopt;
  EXPECT_FALSE(run.error->message.empty());
  // Same error whatever the split.
  std::vector<std::size_t> every;
  for (std::size_t i = 1; i < body.size() && body.size() < 4096; ++i) every.push_back(i);
  const BodyRun bytewise = run_pieces(body, every, limits);
  EXPECT_TRUE(bytewise.error.has_value());
  if (bytewise.error) {
    EXPECT_EQ(bytewise.error->id, run.error->id);
  }
  EXPECT_EQ(bytewise.events, run.events);
  return run.error->id;
}

TEST(MkvIngestParserErrors, ValidBodyHasNoError) { EXPECT_EQ(error_of(one_fragment_body()), std::nullopt); }

TEST(MkvIngestParserErrors, InvalidMkv) {
  const auto invalid = IngestErrorId::invalid_mkv;
  Bytes body = one_fragment_body();
  body[0] = 0x1B;  // flipped EBML ID byte
  EXPECT_EQ(error_of(body), invalid);
  body = one_fragment_body();
  body[0] = 0x00;  // ID longer than 4 bytes
  EXPECT_EQ(error_of(body), invalid);
  body = one_fragment_body();
  body[4] = 0x00;  // size field longer than 8 bytes
  EXPECT_EQ(error_of(body), invalid);
  EXPECT_EQ(error_of(cat({ebml_header("avi"), unknown_size_header(0x18538067)})), invalid);
  // Cluster before Tracks (so a block before Tracks).
  EXPECT_EQ(error_of(cat({ebml_header(), unknown_size_header(0x18538067), info(), cluster_start(0),
                          simple_block(1, 0, true, 5)})),
            invalid);
  // SimpleBlock before the Cluster Timecode.
  EXPECT_EQ(error_of(cat({stream_header(), unknown_size_header(0x1F43B675), simple_block(1, 0, true, 5)})), invalid);
  // Cluster without Timecode, ended by the next Cluster.
  EXPECT_EQ(error_of(cat({stream_header(), unknown_size_header(0x1F43B675), cluster_start(5)})), invalid);
  // Child bigger than its known-size Cluster.
  Bytes children = cat({uint_element(0xE7, 5), simple_block(1, 0, true, 10)});
  Bytes cluster = element(0x1F43B675, children, 4);
  cluster[7] = static_cast<std::uint8_t>(cluster[7] - 3);  // shrink the Cluster size by 3
  EXPECT_EQ(error_of(cat({stream_header(), cluster, cluster_start(9)})), invalid);
  // A second Segment.
  EXPECT_EQ(error_of(cat({stream_header(), unknown_size_header(0x18538067)})), invalid);
  // An element that does not belong at Segment level.
  EXPECT_EQ(error_of(cat({stream_header(), element(0x4286, Bytes{1})})), invalid);
  // Unknown size on Tracks.
  EXPECT_EQ(error_of(cat({ebml_header(), unknown_size_header(0x18538067), info(), unknown_size_header(0x1654AE6B)})),
            invalid);
  // Oversized lengths: a Tags element over max_tags_bytes, a header over max_header_bytes.
  IngestLimits limits;
  limits.max_tags_bytes = 40;
  EXPECT_EQ(error_of(cat({one_fragment_body(), tags({{"A_LONG_NAME", "A_LONG_VALUE"}})}), limits), invalid);
  limits = {};
  limits.max_header_bytes = 100;
  EXPECT_EQ(error_of(one_fragment_body(), limits), invalid);
  // Timecode longer than 8 bytes.
  EXPECT_EQ(error_of(cat({stream_header(), unknown_size_header(0x1F43B675), element(0xE7, Bytes(9, 0))})), invalid);
  // Block shorter than its header.
  EXPECT_EQ(error_of(cat({stream_header(), cluster_start(0), element(0xA3, Bytes{0x81, 0, 0})})), invalid);
  // Element after a known-size Segment that is not a new EBML header.
  EXPECT_EQ(
      error_of(cat({ebml_header(), element(0x18538067, cat({info(), tracks({track_entry(1, 1, "V")})})), info()})),
      invalid);
}

TEST(MkvIngestParserErrors, TimecodeGoingBack) {
  const Bytes body = cat({one_fragment_body(), cluster_start(999), simple_block(1, 0, true, 5)});
  EXPECT_EQ(error_of(body), IngestErrorId::timecode_not_monotonic);
  // The error names the rejected cluster, whose start was never reported.
  const BodyRun run = run_pieces(body, {}, {});
  ASSERT_TRUE(run.error.has_value());
  EXPECT_EQ(run.error->cluster_timecode, std::optional<std::uint64_t>(999));
  // Equal timecodes are allowed.
  EXPECT_EQ(error_of(cat({one_fragment_body(), cluster_start(1000), simple_block(1, 0, true, 5)})), std::nullopt);
}

TEST(MkvIngestParserErrors, TooManyTracks) {
  const Bytes four =
      cat({ebml_header(), unknown_size_header(0x18538067), info(),
           tracks({track_entry(1, 1, "V"), track_entry(2, 2, "A"), track_entry(3, 2, "A"), track_entry(4, 2, "A")})});
  EXPECT_EQ(error_of(four), IngestErrorId::too_many_tracks);
}

TEST(MkvIngestParserErrors, TrackNumberMismatch) {
  EXPECT_EQ(error_of(cat({stream_header(), cluster_start(0), simple_block(5, 0, true, 5)})),
            IngestErrorId::track_number_mismatch);
}

TEST(MkvIngestParserErrors, FragmentSize) {
  IngestLimits limits;
  limits.max_fragment_bytes = 60;
  EXPECT_EQ(error_of(one_fragment_body(), limits), IngestErrorId::fragment_size_reached);
  limits.max_fragment_bytes = 200;
  EXPECT_EQ(error_of(one_fragment_body(), limits), std::nullopt);
  // A known-size Cluster declaring more than the limit fails at its header.
  const Bytes big = cat({stream_header(), element(0x1F43B675, Bytes(300, 0xEC), 8)});
  EXPECT_EQ(error_of(Bytes(big.begin(), big.end() - 290), limits), IngestErrorId::fragment_size_reached);
}

TEST(MkvIngestParserErrors, FragmentDuration) {
  IngestLimits limits;
  limits.max_fragment_duration_ms = 30;
  EXPECT_EQ(error_of(one_fragment_body(), limits), IngestErrorId::fragment_duration_reached);
  limits.max_fragment_duration_ms = 40;
  EXPECT_EQ(error_of(one_fragment_body(), limits), std::nullopt);
}

TEST(MkvIngestParserErrors, FragmentDurationWithHugeTimecodeScale) {
  // 20 units of ~5.2e18 ns: far beyond the limit, and too big for a 64-bit product.
  const Bytes body = cat({ebml_header(), unknown_size_header(0x18538067), info(5188146770731811392ull),
                          tracks({track_entry(1, 1, "V")}), cluster_start(0), simple_block(1, 0, true, 5),
                          simple_block(1, 20, false, 5)});
  EXPECT_EQ(error_of(body), IngestErrorId::fragment_duration_reached);
}

TEST(MkvIngestParserErrors, MetadataLimits) {
  std::vector<std::pair<std::string, std::string>> ten;
  for (int i = 0; i < 10; ++i) ten.emplace_back("K" + std::to_string(i), "V");
  Bytes body = one_fragment_body();
  for (const auto& item : ten) append(body, tags({item}));
  EXPECT_EQ(error_of(body), std::nullopt);
  append(body, tags({{"K10", "V"}}));
  EXPECT_EQ(error_of(body), IngestErrorId::metadata_limit_reached);
  // AWS names do not count.
  body = one_fragment_body();
  for (const auto& item : ten) append(body, tags({item}));
  append(body, tags({{"AWS_KINESISVIDEO_NOTIFICATION", "x"}}));
  EXPECT_EQ(error_of(body), std::nullopt);
  EXPECT_EQ(error_of(cat({one_fragment_body(), tags({{std::string(129, 'n'), "v"}})})),
            IngestErrorId::metadata_limit_reached);
  EXPECT_EQ(error_of(cat({one_fragment_body(), tags({{"n", std::string(257, 'v')}})})),
            IngestErrorId::metadata_limit_reached);
  // Before the first Cluster too, reported at that Cluster's Timecode (so the ERROR names it).
  Bytes early = stream_header();
  for (int i = 0; i < 11; ++i) append(early, tags({{"K" + std::to_string(i), "V"}}));
  EXPECT_EQ(error_of(early), std::nullopt);  // no Cluster: no fragment to have them
  append(early, cat({cluster_start(1000), simple_block(1, 0, true, 10)}));
  EXPECT_EQ(error_of(early), IngestErrorId::metadata_limit_reached);
  Recorder rec;
  const auto err = MkvIngestParser(rec).feed(early);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->cluster_timecode, std::optional<std::uint64_t>(1000));
  EXPECT_TRUE(rec.starts.empty());
}

TEST(MkvIngestParserErrors, ErrorsAreStickyAndStopEvents) {
  Bytes body = cat({stream_header(), cluster_start(0), simple_block(1, 0, true, 5), end_of_fragment_tags(),
                    cluster_start(10), simple_block(5, 0, true, 5)});
  Recorder rec;
  MkvIngestParser parser(rec);
  const auto err = parser.feed(body);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->id, IngestErrorId::track_number_mismatch);
  EXPECT_EQ(rec.fragments.size(), 1u);  // the open fragment is never reported
  EXPECT_EQ(rec.starts.size(), 2u);
  const auto again = parser.feed(one_fragment_body());
  ASSERT_TRUE(again);
  EXPECT_EQ(again->id, err->id);
  EXPECT_EQ(again->message, err->message);
  const auto at_finish = parser.finish();
  ASSERT_TRUE(at_finish);
  EXPECT_EQ(at_finish->id, err->id);
  EXPECT_EQ(rec.fragments.size(), 1u);
  EXPECT_EQ(rec.headers.size(), 1u);
}

}  // namespace
}  // namespace kvsd::media
