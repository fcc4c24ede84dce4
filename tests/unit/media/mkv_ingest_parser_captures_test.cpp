// The ingest parser on real PutMedia bodies captured from the stock KVS producer SDK.
//
// Expected values come from two sources independent of the parser: the mkvinfo dumps stored next
// to the captures, and a byte-pattern scan of the SDK's fixed element forms (an unknown-size
// Cluster followed by an 8-byte Timecode; Tags with an 8-byte size field; the END_OF_FRAGMENT tag
// name). Where both exist they are cross-checked.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <fstream>

// libstdc++ 12's <regex> trips -Wmaybe-uninitialized under -fsanitize=address (a false positive
// inside std::function's copy in _StateT); the mkvinfo dumps are easiest to read with regexes.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <regex>

#include "mkv_test_support.hpp"

namespace kvsd::media {
namespace {

using testing::Bytes;
using testing::Recorder;

struct ScanResult {
  std::vector<std::size_t> clusters;
  std::vector<std::uint64_t> cluster_timecodes;
  std::vector<std::pair<std::size_t, std::size_t>> tags;  // offset, total size
  std::vector<std::size_t> end_of_fragment;               // offsets of the tag name string
};

bool match_at(const Bytes& data, std::size_t at, std::initializer_list<std::uint8_t> pattern) {
  if (at + pattern.size() > data.size()) return false;
  return std::equal(pattern.begin(), pattern.end(), data.begin() + static_cast<std::ptrdiff_t>(at));
}

ScanResult scan(const Bytes& data) {
  ScanResult r;
  const std::string eof = "AWS_KINESISVIDEO_END_OF_FRAGMENT";
  for (std::size_t i = 0; i + 12 <= data.size(); ++i) {
    if (match_at(data, i, {0x1F, 0x43, 0xB6, 0x75, 0xFF, 0xE7, 0x88})) {
      std::uint64_t tc = 0;
      for (std::size_t k = 0; k < 8; ++k) tc = (tc << 8) | data[i + 7 + k];
      r.clusters.push_back(i);
      r.cluster_timecodes.push_back(tc);
    } else if (match_at(data, i, {0x12, 0x54, 0xC3, 0x67, 0x01, 0x00})) {
      std::uint64_t size = 0;
      for (std::size_t k = 0; k < 7; ++k) size = (size << 8) | data[i + 5 + k];
      r.tags.emplace_back(i, static_cast<std::size_t>(size) + 12);
    } else if (data[i] == 'A' && i + eof.size() <= data.size() &&
               std::memcmp(data.data() + i, eof.data(), eof.size()) == 0) {
      r.end_of_fragment.push_back(i);
    }
  }
  return r;
}

struct MkvInfo {
  bool present = false;
  std::vector<std::size_t> clusters, tags;
  std::vector<std::string> codec_ids;
  std::vector<std::pair<std::size_t, std::pair<std::string, std::string>>> simple_tags;  // offset, (name, value)
  std::optional<std::uint64_t> first_cluster_ms;
  std::vector<std::string> lines;
};

MkvInfo read_mkvinfo(const std::string& path) {
  MkvInfo info;
  std::ifstream in(path);
  if (!in) return info;
  info.present = true;
  const std::regex top(R"(^\|\+ (Cluster|Tags) at 0x([0-9a-f]+))");
  const std::regex codec(R"(Codec ID: (\S+) at)");
  const std::regex name(R"(\+ Name: (\S+) at 0x([0-9a-f]+))");
  const std::regex value(R"(\+ String(?:: (\S*))? at)");
  const std::regex timestamp(R"(Cluster timestamp: (\d+):(\d+):(\d+)\.(\d{3}))");
  std::string line;
  std::smatch m;
  while (std::getline(in, line)) {
    info.lines.push_back(line);
    if (std::regex_search(line, m, top)) {
      (m[1] == "Cluster" ? info.clusters : info.tags).push_back(std::stoul(m[2], nullptr, 16));
    } else if (std::regex_search(line, m, codec)) {
      info.codec_ids.push_back(m[1]);
    } else if (std::regex_search(line, m, name) && line.find("Track") == std::string::npos &&
               line.find("kvs_") == std::string::npos) {
      info.simple_tags.push_back({std::stoul(m[2], nullptr, 16), {m[1], ""}});
    } else if (std::regex_search(line, m, value) && !info.simple_tags.empty()) {
      info.simple_tags.back().second.second = m[1];
    } else if (!info.first_cluster_ms && std::regex_search(line, m, timestamp)) {
      info.first_cluster_ms =
          ((std::stoull(m[1]) * 60 + std::stoull(m[2])) * 60 + std::stoull(m[3])) * 1000 + std::stoull(m[4]);
    }
  }
  return info;
}

struct CaptureCase {
  std::string body;
  std::string mkvinfo;                 // empty when there is no dump
  std::vector<std::string> codec_ids;  // for captures without a dump (checked with ffprobe once)
};

class CaptureTest : public ::testing::TestWithParam<CaptureCase> {};

TEST_P(CaptureTest, OneFeedMatchesIndependentScan) {
  const auto& param = GetParam();
  const Bytes body = testing::read_file(testing::capture_path(param.body));
  ASSERT_GT(body.size(), 1000u);
  const ScanResult expected = scan(body);
  ASSERT_FALSE(expected.clusters.empty());

  Recorder rec;
  MkvIngestParser parser(rec);
  auto err = parser.feed(body);
  ASSERT_FALSE(err) << err->message;
  err = parser.finish();
  ASSERT_FALSE(err) << err->message;
  EXPECT_EQ(parser.bytes_consumed(), body.size());

  // Header: one, equal to the file prefix up to the first Cluster or Tags.
  ASSERT_EQ(rec.headers.size(), 1u);
  std::size_t first = expected.clusters.front();
  if (!expected.tags.empty()) first = std::min(first, expected.tags.front().first);
  const Bytes prefix(body.begin(), body.begin() + static_cast<std::ptrdiff_t>(first));
  EXPECT_TRUE(rec.headers[0].bytes == prefix);
  EXPECT_EQ(rec.headers[0].timecode_scale_ns, 1'000'000u);

  // Fragments: one per Cluster (every capture ends at an element boundary), with its timecode.
  ASSERT_EQ(rec.fragments.size(), expected.clusters.size());
  EXPECT_EQ(rec.starts, expected.cluster_timecodes);
  for (std::size_t i = 0; i < rec.fragments.size(); ++i) {
    const auto& f = rec.fragments[i];
    EXPECT_EQ(f.cluster_timecode, expected.cluster_timecodes[i]);
    const std::size_t next_cluster = i + 1 < expected.clusters.size() ? expected.clusters[i + 1] : body.size();
    const bool eof = std::any_of(expected.end_of_fragment.begin(), expected.end_of_fragment.end(),
                                 [&](std::size_t at) { return at > expected.clusters[i] && at < next_cluster; });
    EXPECT_EQ(f.closed_by_end_of_fragment_tag, eof) << "fragment " << i;
    // The cluster bytes run from the Cluster to the next Tags or Cluster.
    std::size_t end = next_cluster;
    for (const auto& [at, size] : expected.tags) {
      if (at > expected.clusters[i]) {
        end = std::min(end, at);
        break;
      }
    }
    EXPECT_EQ(f.cluster_bytes.size(), end - expected.clusters[i]) << "fragment " << i;
    EXPECT_GT(f.duration, 0);
    ASSERT_FALSE(f.tracks.empty());
    EXPECT_GE(f.tracks.front().key_frames, 1u);
  }

  // Header bytes + all cluster bytes reproduce the file without its Tags elements.
  Bytes without_tags;
  std::size_t from = 0;
  for (const auto& [at, size] : expected.tags) {
    without_tags.insert(without_tags.end(), body.begin() + static_cast<std::ptrdiff_t>(from),
                        body.begin() + static_cast<std::ptrdiff_t>(at));
    from = at + size;
  }
  without_tags.insert(without_tags.end(), body.begin() + static_cast<std::ptrdiff_t>(from), body.end());
  Bytes rebuilt = rec.headers[0].bytes;
  for (const auto& f : rec.fragments) rebuilt.insert(rebuilt.end(), f.cluster_bytes.begin(), f.cluster_bytes.end());
  EXPECT_EQ(rebuilt.size(), without_tags.size());
  EXPECT_TRUE(rebuilt == without_tags);

  // Tracks and codecs.
  std::vector<std::string> codecs;
  for (const auto& t : rec.headers[0].tracks) codecs.push_back(t.codec_id);
  const MkvInfo info = read_mkvinfo(param.mkvinfo.empty() ? "" : testing::capture_path(param.mkvinfo));
  if (info.present) {
    EXPECT_EQ(codecs, info.codec_ids);
    EXPECT_EQ(info.clusters, expected.clusters);
    std::vector<std::size_t> tag_offsets;
    for (const auto& [at, size] : expected.tags) tag_offsets.push_back(at);
    EXPECT_EQ(info.tags, tag_offsets);
    ASSERT_TRUE(info.first_cluster_ms.has_value());
    EXPECT_EQ(rec.fragments.front().cluster_timecode, *info.first_cluster_ms);
    // User metadata: every non-AWS SimpleTag of the dump, attached to the Cluster before it.
    for (std::size_t i = 0; i < rec.fragments.size(); ++i) {
      const std::size_t next = i + 1 < info.clusters.size() ? info.clusters[i + 1] : body.size();
      std::vector<std::pair<std::string, std::string>> meta;
      for (const auto& [at, kv] : info.simple_tags) {
        if (at > info.clusters[i] && at < next && kv.first.rfind("AWS", 0) != 0) meta.push_back(kv);
      }
      EXPECT_EQ(rec.fragments[i].metadata, meta) << "fragment " << i;
    }
  } else {
    EXPECT_EQ(codecs, param.codec_ids);
  }
}

INSTANTIATE_TEST_SUITE_P(
    SdkCaptures, CaptureTest,
    ::testing::Values(
        CaptureCase{"realtime-h264/04-putMedia-full.mkv", "realtime-h264/04-putMedia-mkvinfo-structure.txt", {}},
        CaptureCase{
            "audio-video-relative/04-putMedia-full.mkv", "audio-video-relative/04-putMedia-mkvinfo-structure.txt", {}},
        CaptureCase{"kvssink-av/04-putMedia-full.mkv", "kvssink-av/04-putMedia-mkvinfo-structure.txt", {}},
        CaptureCase{"kvssink-h264/04-putMedia-full.mkv", "kvssink-h264/04-putMedia-mkvinfo-structure.txt", {}},
        CaptureCase{"offline-h265/04-putMedia-full.mkv", "offline-h265/04-putMedia-mkvinfo-structure.txt", {}},
        CaptureCase{"audio-only-relative/04-putMedia-full.mkv", "", {"A_AAC"}},
        CaptureCase{"reconnect-replay/04-putMedia-full.mkv", "", {"V_MPEG4/ISO/AVC"}},
        CaptureCase{"reconnect-replay/05-putMedia-full.mkv", "", {"V_MPEG4/ISO/AVC"}}),
    [](const ::testing::TestParamInfo<CaptureCase>& p) {
      std::string name = p.param.body.substr(0, p.param.body.find(".mkv"));
      for (auto& c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      }
      return name;
    });

TEST(CaptureFacts, RealtimeH264HeaderAndMetadata) {
  const Bytes body = testing::read_file(testing::capture_path("realtime-h264/04-putMedia-full.mkv"));
  Recorder rec;
  MkvIngestParser parser(rec);
  ASSERT_FALSE(parser.feed(body));
  ASSERT_FALSE(parser.finish());
  ASSERT_EQ(rec.headers.size(), 1u);
  const auto& tracks = rec.headers[0].tracks;
  ASSERT_EQ(tracks.size(), 1u);
  EXPECT_EQ(tracks[0].number, 1u);
  EXPECT_EQ(tracks[0].uid, 1u);
  EXPECT_EQ(tracks[0].type, 1u);
  EXPECT_EQ(tracks[0].name, "kvs_video_track");
  EXPECT_EQ(tracks[0].pixel_width, 640u);
  EXPECT_EQ(tracks[0].pixel_height, 480u);
  EXPECT_EQ(tracks[0].codec_private.size(), 45u);
  ASSERT_EQ(rec.fragments.size(), 6u);
  // The dump: 45 blocks per fragment at 25 fps (40 ms), 9 TEST_KEY_n items and an EoF tag each.
  for (std::size_t i = 0; i < 5; ++i) {
    const auto& f = rec.fragments[i];
    EXPECT_TRUE(f.closed_by_end_of_fragment_tag);
    ASSERT_EQ(f.tracks.size(), 1u);
    EXPECT_EQ(f.tracks[0].frames, 45u);
    EXPECT_EQ(f.tracks[0].key_frames, 1u);
    EXPECT_EQ(f.tracks[0].min_timecode, 0);
    EXPECT_EQ(f.tracks[0].max_timecode, 1760);
    EXPECT_EQ(f.duration, 1800);
    ASSERT_EQ(f.metadata.size(), 9u);
    EXPECT_EQ(f.metadata[0].first, "TEST_KEY_1");
    EXPECT_EQ(f.metadata[8].first, "TEST_KEY_9");
  }
  EXPECT_EQ(rec.fragments[0].metadata[0].second, "TEST_VALUE_1");
  EXPECT_EQ(rec.fragments[1].metadata[0].second, "TEST_VALUE_46");
}

TEST(CaptureFacts, AudioVideoTracks) {
  const Bytes body = testing::read_file(testing::capture_path("audio-video-relative/04-putMedia-full.mkv"));
  Recorder rec;
  MkvIngestParser parser(rec);
  ASSERT_FALSE(parser.feed(body));
  ASSERT_FALSE(parser.finish());
  ASSERT_EQ(rec.headers.size(), 1u);
  const auto& tracks = rec.headers[0].tracks;
  ASSERT_EQ(tracks.size(), 2u);
  EXPECT_EQ(tracks[1].number, 2u);
  EXPECT_EQ(tracks[1].type, 2u);
  EXPECT_EQ(tracks[1].sampling_frequency, 48000.0);
  EXPECT_EQ(tracks[1].channels, 2u);
  EXPECT_EQ(tracks[1].codec_private.size(), 2u);
  EXPECT_EQ(rec.fragments.front().cluster_timecode, 0u);  // RELATIVE timecodes
  ASSERT_EQ(rec.fragments.front().tracks.size(), 2u);
  EXPECT_EQ(rec.fragments.front().tracks[0].track_number, 1u);
  EXPECT_EQ(rec.fragments.front().tracks[1].track_number, 2u);
  EXPECT_GT(rec.fragments.front().tracks[1].frames, 10u);
}

}  // namespace
}  // namespace kvsd::media
