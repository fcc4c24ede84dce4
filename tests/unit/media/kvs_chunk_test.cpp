#include "media/kvs_chunk.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "media/mkv_document.hpp"
#include "media/mkv_ingest_parser.hpp"
#include "media/mkv_writer.hpp"

namespace kvsd::media {
namespace {

TEST(KvsChunk, EpochSecondsTextHasThreeDecimals) {
  EXPECT_EQ(epoch_seconds_text(1511852109126), "1511852109.126");
  EXPECT_EQ(epoch_seconds_text(1511852109000), "1511852109.000");
  EXPECT_EQ(epoch_seconds_text(5), "0.005");
  EXPECT_EQ(epoch_seconds_text(0), "0.000");
  EXPECT_EQ(epoch_seconds_text(-1500), "-1.500");
}

// Collects what the ingest parser reports, to read the chunk back.
struct Collector : MkvIngestParser::Handler {
  std::vector<Fragment> fragments;
  int headers = 0;
  void on_header(const StreamHeader&) override { ++headers; }
  void on_fragment_start(const FragmentStart&) override {}
  void on_fragment(Fragment&& f) override { fragments.push_back(std::move(f)); }
};

std::string as_string(const std::vector<std::uint8_t>& b) { return std::string(b.begin(), b.end()); }

TEST(KvsChunk, PrefixIsAnUnknownSizeDocumentWithTheFragmentTags) {
  const std::array<MkvTrackSpec, 1> tracks{MkvTrackSpec{}};
  auto header = write_mkv_header(MkvSegmentSpec{}, tracks);
  const ChunkInfo info{"91343852333181432412489103253840132852129169963", 1511852109126, 1511852108513};
  const auto prefix = chunk_prefix(header, info);
  ASSERT_FALSE(prefix.empty());
  // The stored header with its Segment size rewritten to the 8-byte unknown size comes first.
  const auto rewritten = unknown_size_segment_header(header);
  ASSERT_GE(prefix.size(), rewritten.size());
  EXPECT_TRUE(std::equal(rewritten.begin(), rewritten.end(), prefix.begin()));
  const auto text = as_string(prefix);
  for (const auto* s :
       {"AWS_KINESISVIDEO_FRAGMENT_NUMBER", "91343852333181432412489103253840132852129169963",
        "AWS_KINESISVIDEO_SERVER_TIMESTAMP", "1511852109.126", "AWS_KINESISVIDEO_PRODUCER_TIMESTAMP", "1511852108.513"})
    EXPECT_NE(text.find(s), std::string::npos) << s;

  // A whole chunk (prefix + cluster + trailer) is one valid document to the ingest parser, and the
  // trailer's tags arrive as fragment metadata-free Tags (AWS_ names are not user metadata).
  auto cluster = write_cluster_start(1511852108513);
  const std::vector<std::uint8_t> frame{0, 0, 0, 1, 0x65, 1, 2, 3};
  append_simple_block(cluster, 1, 0, true, frame);
  std::vector<std::uint8_t> chunk = prefix;
  chunk.insert(chunk.end(), cluster.begin(), cluster.end());
  const auto trailer = get_media_trailer(1234, info.fragment_number);
  chunk.insert(chunk.end(), trailer.begin(), trailer.end());
  const auto trailer_text = as_string(trailer);
  EXPECT_NE(trailer_text.find("AWS_KINESISVIDEO_MILLIS_BEHIND_NOW"), std::string::npos);
  EXPECT_NE(trailer_text.find("1234"), std::string::npos);
  EXPECT_NE(trailer_text.find("AWS_KINESISVIDEO_CONTINUATION_TOKEN"), std::string::npos);

  Collector c;
  MkvIngestParser parser(c, IngestLimits{});
  EXPECT_FALSE(parser.feed(chunk).has_value());
  EXPECT_FALSE(parser.finish().has_value());
  EXPECT_EQ(c.headers, 1);
  ASSERT_EQ(c.fragments.size(), 1u);
  EXPECT_EQ(c.fragments[0].cluster_timecode, 1511852108513u);
}

TEST(KvsChunk, KnownSizeSegmentIsRewrittenToUnknownSize) {
  const std::array<MkvTrackSpec, 1> tracks{MkvTrackSpec{}};
  auto header = write_mkv_header(MkvSegmentSpec{}, tracks);
  const auto plain = unknown_size_segment_header(header);
  ASSERT_FALSE(plain.empty());
  // Find the Segment size (after the ID 18 53 80 67) and give it a known 8-byte size.
  const std::array<std::uint8_t, 4> segment_id{0x18, 0x53, 0x80, 0x67};
  auto at = std::search(header.begin(), header.end(), segment_id.begin(), segment_id.end());
  ASSERT_NE(at, header.end());
  const auto size_pos = static_cast<std::size_t>(at - header.begin()) + 4;
  const std::array<std::uint8_t, 8> known{0x01, 0, 0, 0, 0, 0, 0x01, 0x00};
  std::copy(known.begin(), known.end(), header.begin() + static_cast<std::ptrdiff_t>(size_pos));
  const auto prefix = chunk_prefix(header, ChunkInfo{"1", 0, 0});
  ASSERT_GE(prefix.size(), size_pos + 8);
  for (std::size_t i = 0; i < 8; ++i) EXPECT_EQ(prefix[size_pos + i], kUnknownSize8[i]) << i;
}

TEST(KvsChunk, GarbageHeaderGivesNoPrefix) {
  const std::vector<std::uint8_t> garbage{1, 2, 3, 4, 5};
  EXPECT_TRUE(chunk_prefix(garbage, ChunkInfo{"1", 0, 0}).empty());
  EXPECT_TRUE(chunk_prefix({}, ChunkInfo{"1", 0, 0}).empty());
}

}  // namespace
}  // namespace kvsd::media
