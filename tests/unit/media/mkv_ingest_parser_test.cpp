// MkvIngestParser on built bodies: structure, fragment closing rules, block details, and
// split-at-every-byte equivalence.

#include <gtest/gtest.h>

#include "mkv_test_support.hpp"

namespace kvsd::media {
namespace {

using namespace testing;  // NOLINT(google-build-using-namespace): test helpers

// Header, user metadata before the first Cluster, three fragments (closed by EoF tag, by the next
// Cluster, and by finish()), metadata after a Cluster, a BlockGroup and laced blocks.
// `without_tags` receives the same body minus its Tags elements.
Bytes sample_body(Bytes* without_tags = nullptr) {
  Bytes body;
  Bytes rest;
  auto add = [&](const Bytes& part, bool is_tags = false) {
    append(body, part);
    if (!is_tags) append(rest, part);
  };
  add(stream_header());
  add(tags({{"BEFORE", "first"}}), true);
  add(cluster_start(1000));
  add(simple_block(1, 0, true, 20));
  add(simple_block(2, 5, true, 7));
  add(simple_block(1, 40, false, 9));
  add(simple_block(1, 80, false, 9));
  add(tags({{"K1", "V1"}, {"AWS_OTHER", "x"}}), true);
  add(tags({{"K2", "V2"}}), true);
  add(end_of_fragment_tags(), true);
  add(tags({{"NEXT", "n"}}), true);
  add(cluster_start(1120));
  // BlockGroup without ReferenceBlock (a key frame) and one with it.
  const Bytes block_body = {0x81, 0x00, 0x00, 0x00, 0x11, 0x22};
  add(element(0xA0, cat({element(0xA1, block_body), uint_element(0x9B, 40)})));
  const Bytes block_body2 = {0x81, 0x00, 0x28, 0x00, 0x33};
  add(element(0xA0, cat({element(0xA1, block_body2), uint_element(0xFB, 0xD8)})));
  // Xiph-laced audio block with 3 frames (lace count 2, sizes 2 and 3, last 4), EBML-laced with 2.
  add(element(0xA3, Bytes{0x82, 0x00, 0x0A, 0x02, 0x02, 0x02, 0x03, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  add(element(0xA3, Bytes{0x82, 0x00, 0x14, 0x06, 0x01, 0x82, 1, 2, 3, 4}));
  // Fixed-laced block: 2 frames of 2 bytes.
  add(element(0xA3, Bytes{0x82, 0x00, 0x1E, 0x04, 0x01, 1, 2, 3, 4}));
  add(element(0xEC, Bytes(3, 0)));  // Void inside the Cluster
  add(cluster_start(1200));
  add(simple_block(1, 0, true, 11));
  if (without_tags != nullptr) *without_tags = rest;
  return body;
}

TEST(MkvIngestParser, SampleBodyEvents) {
  const Bytes body = sample_body();
  Recorder rec;
  MkvIngestParser parser(rec);
  ASSERT_FALSE(parser.feed(body));
  // The EoF tag closed the first fragment and the second Cluster the second, before finish().
  ASSERT_EQ(rec.fragments.size(), 2u);
  ASSERT_FALSE(parser.finish());
  ASSERT_EQ(rec.headers.size(), 1u);
  EXPECT_EQ(rec.headers[0].tracks.size(), 2u);
  EXPECT_NEAR(rec.headers[0].tracks[1].sampling_frequency, 44100.0, 0.001);
  EXPECT_EQ(rec.headers[0].tracks[1].channels, 1u);
  EXPECT_EQ(rec.headers[0].tracks[0].pixel_width, 320u);
  ASSERT_EQ(rec.fragments.size(), 3u);
  EXPECT_EQ(rec.starts, (std::vector<std::uint64_t>{1000, 1120, 1200}));

  const auto& f0 = rec.fragments[0];
  EXPECT_TRUE(f0.closed_by_end_of_fragment_tag);
  EXPECT_EQ(f0.metadata,
            (std::vector<std::pair<std::string, std::string>>{{"BEFORE", "first"}, {"K1", "V1"}, {"K2", "V2"}}));
  ASSERT_EQ(f0.tracks.size(), 2u);
  EXPECT_EQ(f0.tracks[0].frames, 3u);
  EXPECT_EQ(f0.tracks[0].key_frames, 1u);
  EXPECT_EQ(f0.tracks[0].max_timecode, 80);
  EXPECT_EQ(f0.tracks[1].frames, 1u);
  EXPECT_EQ(f0.duration, 80 + 40);  // last - first + video frame interval (80 / 2)

  const auto& f1 = rec.fragments[1];
  EXPECT_FALSE(f1.closed_by_end_of_fragment_tag);
  EXPECT_EQ(f1.metadata, (std::vector<std::pair<std::string, std::string>>{{"NEXT", "n"}}));
  ASSERT_EQ(f1.tracks.size(), 2u);
  EXPECT_EQ(f1.tracks[0].frames, 2u);
  EXPECT_EQ(f1.tracks[0].key_frames, 1u);  // only the BlockGroup without ReferenceBlock
  EXPECT_EQ(f1.tracks[1].frames, 3u + 2u + 2u);
  EXPECT_EQ(f1.tracks[1].key_frames, 0u);
  EXPECT_EQ(f1.tracks[1].min_timecode, 10);
  EXPECT_EQ(f1.tracks[1].max_timecode, 30);

  const auto& f2 = rec.fragments[2];
  EXPECT_FALSE(f2.closed_by_end_of_fragment_tag);
  EXPECT_TRUE(f2.metadata.empty());
  EXPECT_EQ(f2.duration, 0);  // one frame: no interval can be estimated

  // Header + clusters == body without its Tags.
  Bytes rebuilt = rec.headers[0].bytes;
  for (const auto& f : rec.fragments) append(rebuilt, f.cluster_bytes);
  Bytes without_tags;
  sample_body(&without_tags);
  EXPECT_EQ(rebuilt, without_tags);
  EXPECT_EQ(rec.fragments[2].cluster_bytes, cat({cluster_start(1200), simple_block(1, 0, true, 11)}));
}

TEST(MkvIngestParser, SplitAtEveryBytePositionGivesIdenticalEvents) {
  const Bytes body = sample_body();
  const BodyRun whole = run_pieces(body, {});
  ASSERT_FALSE(whole.error);
  ASSERT_EQ(whole.fragments, 3u);
  for (std::size_t cut = 0; cut <= body.size(); ++cut) {
    const BodyRun split = run_pieces(body, {cut});
    ASSERT_EQ(split.events, whole.events) << "cut at " << cut;
  }
  std::vector<std::size_t> every;
  for (std::size_t i = 1; i < body.size(); ++i) every.push_back(i);
  EXPECT_EQ(run_pieces(body, every).events, whole.events);
}

TEST(MkvIngestParser, SplitCapturePrefixInOneBytePieces) {
  // The audio-only capture cut after ~6 KB: header, first Cluster and a truncated tail.
  const Bytes capture = read_file(capture_path("audio-only-relative/04-putMedia-full.mkv"));
  ASSERT_GT(capture.size(), 6000u);
  const Bytes body(capture.begin(), capture.begin() + 6000);
  const BodyRun whole = run_pieces(body, {});
  ASSERT_FALSE(whole.error);
  EXPECT_NE(whole.events.find("start 0"), std::string::npos);
  std::vector<std::size_t> every;
  for (std::size_t i = 1; i < body.size(); ++i) every.push_back(i);
  EXPECT_EQ(run_pieces(body, every).events, whole.events);
  for (std::size_t cut = 0; cut <= body.size(); cut += 7) {
    ASSERT_EQ(run_pieces(body, {cut}).events, whole.events) << "cut at " << cut;
  }
}

TEST(MkvIngestParser, TruncatedTailDropsOnlyTheOpenFragment) {
  Bytes body = stream_header();
  append(body, cluster_start(0));
  append(body, simple_block(1, 0, true, 50));
  append(body, end_of_fragment_tags());
  append(body, cluster_start(100));
  append(body, simple_block(1, 0, true, 50));
  const std::size_t complete = body.size();
  append(body, simple_block(1, 40, false, 50));
  // Every truncation point inside the second Cluster's last block: one fragment, no error.
  for (std::size_t cut = complete + 1; cut < body.size(); ++cut) {
    const BodyRun run = run_pieces(std::span<const std::uint8_t>(body).first(cut), {});
    ASSERT_FALSE(run.error) << "cut " << cut;
    ASSERT_EQ(run.fragments, 1u) << "cut " << cut;
    ASSERT_TRUE(run.ended_inside_element) << "cut " << cut;  // PutMedia answers it with 4006
  }
  // Ending exactly at a block boundary of an unknown-size Cluster closes it: a clean end.
  const BodyRun at_boundary = run_pieces(std::span<const std::uint8_t>(body).first(complete), {});
  EXPECT_EQ(at_boundary.fragments, 2u);
  EXPECT_FALSE(at_boundary.ended_inside_element);
  EXPECT_EQ(run_pieces(body, {}).fragments, 2u);
  EXPECT_FALSE(run_pieces(body, {}).ended_inside_element);
  // Truncated inside the header: no event, no error, but a cut.
  const BodyRun header_only = run_pieces(std::span<const std::uint8_t>(body).first(30), {});
  EXPECT_FALSE(header_only.error);
  EXPECT_TRUE(header_only.events.empty());
  EXPECT_TRUE(header_only.ended_inside_element);
  // An empty body is no cut.
  EXPECT_FALSE(run_pieces(std::span<const std::uint8_t>(body).first(0), {}).ended_inside_element);
}

TEST(MkvIngestParser, TruncatedKnownSizeClusterIsDropped) {
  Bytes body = stream_header();
  const Bytes children = cat({uint_element(0xE7, 5), simple_block(1, 0, true, 10), simple_block(1, 40, false, 10)});
  const Bytes cluster = element(0x1F43B675, children, 4);
  append(body, cluster);
  EXPECT_EQ(run_pieces(body, {}).fragments, 1u);
  // Cut at the boundary between the two blocks: the Cluster is not complete.
  const std::size_t cut = body.size() - simple_block(1, 40, false, 10).size();
  const BodyRun run = run_pieces(std::span<const std::uint8_t>(body).first(cut), {});
  EXPECT_FALSE(run.error);
  EXPECT_EQ(run.fragments, 0u);
  EXPECT_NE(run.events.find("start 5"), std::string::npos);
}

TEST(MkvIngestParser, KnownSizeSegmentAndClusters) {
  const Bytes c1 = element(0x1F43B675, cat({uint_element(0xE7, 10), simple_block(1, 0, true, 5)}), 2);
  const Bytes c2 = element(0x1F43B675, cat({uint_element(0xE7, 20), simple_block(1, 0, true, 5)}), 8);
  const Bytes segment_body =
      cat({element(0x114D9B74, Bytes(10, 0)), info(), tracks({track_entry(1, 1, "V_MPEG4/ISO/AVC")}), c1, c2});
  const Bytes body = cat({ebml_header("webm"), element(0x18538067, segment_body, 8)});
  Recorder rec;
  MkvIngestParser parser(rec);
  ASSERT_FALSE(parser.feed(body));
  // The Segment ended at a boundary: both fragments are out before finish().
  EXPECT_EQ(rec.fragments.size(), 2u);
  ASSERT_FALSE(parser.finish());
  ASSERT_EQ(rec.fragments.size(), 2u);
  EXPECT_EQ(rec.fragments[0].cluster_bytes, c1);
  EXPECT_EQ(rec.fragments[1].cluster_bytes, c2);
  // The SeekHead is skipped: header = EBML header + Segment header + Info + Tracks.
  ASSERT_EQ(rec.headers.size(), 1u);
  EXPECT_EQ(rec.headers[0].bytes.size(),
            ebml_header("webm").size() + 12 + info().size() + tracks({track_entry(1, 1, "V_MPEG4/ISO/AVC")}).size());
}

TEST(MkvIngestParser, NewTracksMidStreamClosesFragmentAndEmitsHeader) {
  Bytes body = stream_header();
  append(body, cluster_start(0));
  append(body, simple_block(1, 0, true, 5));
  const Bytes new_tracks = tracks({track_entry(1, 1, "V_MPEGH/ISO/HEVC")});
  append(body, new_tracks);
  append(body, cluster_start(50));
  append(body, simple_block(1, 0, true, 5));
  const BodyRun whole = run_pieces(body, {});
  Recorder rec;
  MkvIngestParser parser(rec);
  ASSERT_FALSE(parser.feed(body));
  ASSERT_FALSE(parser.finish());
  ASSERT_EQ(rec.headers.size(), 2u);
  ASSERT_EQ(rec.fragments.size(), 2u);
  EXPECT_EQ(rec.headers[1].tracks[0].codec_id, "V_MPEGH/ISO/HEVC");
  const Bytes expected = cat({ebml_header(), unknown_size_header(0x18538067), info(), new_tracks});
  EXPECT_EQ(rec.headers[1].bytes, expected);
  // Order: header, start, fragment, header, start, fragment.
  const auto h2 = whole.events.find("header", 10);
  const auto f1 = whole.events.find("fragment 0 ");
  ASSERT_NE(h2, std::string::npos);
  ASSERT_NE(f1, std::string::npos);
  EXPECT_LT(f1, h2);
}

TEST(MkvIngestParser, SecondEbmlHeaderStartsANewHeader) {
  Bytes body = stream_header();
  append(body, cluster_start(0));
  append(body, simple_block(1, 0, true, 5));
  append(body, stream_header());
  append(body, cluster_start(0));  // equal timecode is allowed
  append(body, simple_block(2, 0, true, 5));
  Recorder rec;
  MkvIngestParser parser(rec);
  ASSERT_FALSE(parser.feed(body));
  ASSERT_FALSE(parser.finish());
  EXPECT_EQ(rec.headers.size(), 2u);
  EXPECT_EQ(rec.fragments.size(), 2u);
  EXPECT_EQ(rec.headers[1].bytes, stream_header());
}

TEST(MkvIngestParser, DefaultDurationAndTimecodeScale) {
  // TimecodeScale 100 us; video DefaultDuration 33,333,333 ns = 333.3 units.
  Bytes body = cat({ebml_header(), unknown_size_header(0x18538067), info(100'000),
                    tracks({track_entry(1, 1, "V_MPEG4/ISO/AVC", 33'333'333)})});
  append(body, cluster_start(7));
  append(body, simple_block(1, 0, true, 5));
  append(body, simple_block(1, 333, false, 5));
  Recorder rec;
  MkvIngestParser parser(rec);
  ASSERT_FALSE(parser.feed(body));
  ASSERT_FALSE(parser.finish());
  ASSERT_EQ(rec.headers.size(), 1u);
  EXPECT_EQ(rec.headers[0].timecode_scale_ns, 100'000u);
  EXPECT_EQ(rec.headers[0].tracks[0].default_duration_ns, 33'333'333u);
  ASSERT_EQ(rec.fragments.size(), 1u);
  EXPECT_EQ(rec.fragments[0].duration, 333 + 333);
}

TEST(MkvIngestParser, MultiByteTrackNumberVarint) {
  Bytes body =
      cat({ebml_header(), unknown_size_header(0x18538067), info(), tracks({track_entry(200, 1, "V_MPEG4/ISO/AVC")})});
  append(body, cluster_start(0));
  // Track 200 as a 2-byte varint (0x40C8).
  append(body, element(0xA3, Bytes{0x40, 0xC8, 0x00, 0x00, 0x80, 9, 9}));
  const BodyRun run = run_pieces(body, {});
  ASSERT_FALSE(run.error);
  EXPECT_NE(run.events.find("track 200 f 1 k 1"), std::string::npos);
}

}  // namespace
}  // namespace kvsd::media
