#include "media/hls_playlist.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace kvsd::media {
namespace {

std::vector<PlaylistSegment> three(std::uint64_t header_of_third = 7) {
  return {{"100", 1'643'353'235'931, 1857, 7, 4},
          {"101", 1'643'353'237'787, 1857, 7, 5},
          {"102", 1'643'353'239'900, 2680, header_of_third, 6}};
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

TEST(HlsPlaylist, NumbersAreFormattedAsTheSpecShows) {
  EXPECT_EQ(extinf_seconds(1857), "1.857");
  EXPECT_EQ(extinf_seconds(2680), "2.68");
  EXPECT_EQ(extinf_seconds(1010), "1.01");
  EXPECT_EQ(extinf_seconds(998), "0.998");
  EXPECT_EQ(extinf_seconds(2000), "2");
  EXPECT_EQ(iso8601_ms(1'643'353'235'931), "2022-01-28T07:00:35.931Z");
}

TEST(HlsPlaylist, OnDemandNeverHasVodEndlistOneMapAndDates) {
  MediaPlaylistSpec spec;
  spec.token = "T";
  spec.vod = true;
  spec.ended = true;
  spec.discontinuity = DiscontinuityRule::never;
  spec.program_date_time = true;
  const auto segs = three();
  const auto text = media_playlist(spec, segs);
  EXPECT_EQ(text.rfind("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-TARGETDURATION:3\n", 0), 0u)
      << text;
  EXPECT_NE(text.find("#EXT-X-MEDIA-SEQUENCE:4\n"), std::string::npos);
  EXPECT_EQ(count(text, "#EXT-X-MAP:"), 1u);
  EXPECT_NE(text.find("#EXT-X-MAP:URI=\"getMP4InitFragment.mp4?SessionToken=T&TrackNumber=1&SequenceNumber=7\""),
            std::string::npos);
  EXPECT_EQ(count(text, "#EXT-X-DISCONTINUITY\n"), 0u);
  EXPECT_EQ(count(text, "#EXT-X-PROGRAM-DATE-TIME:"), 3u);
  EXPECT_NE(text.find("#EXT-X-PROGRAM-DATE-TIME:2022-01-28T07:00:35.931Z\n#EXTINF:1.857,\n"
                      "getMP4MediaFragment.mp4?FragmentNumber=100&SessionToken=T&TrackNumber=1\n"),
            std::string::npos);
  EXPECT_EQ(text.substr(text.size() - 15), "#EXT-X-ENDLIST\n");
  EXPECT_EQ(text.find("DISCONTINUITY-SEQUENCE"), std::string::npos);  // VOD: no sliding window
}

TEST(HlsPlaylist, LiveAlwaysHasADiscontinuityBeforeEverySegmentAndNoEnd) {
  MediaPlaylistSpec spec;
  spec.token = "T";
  spec.track_number = 2;
  spec.discontinuity_sequence = 4;
  const auto text = media_playlist(spec, three());
  EXPECT_EQ(count(text, "#EXT-X-DISCONTINUITY\n"), 3u);
  EXPECT_NE(text.find("#EXT-X-DISCONTINUITY-SEQUENCE:4\n"), std::string::npos);
  EXPECT_EQ(text.find("ENDLIST"), std::string::npos);
  EXPECT_EQ(text.find("PLAYLIST-TYPE"), std::string::npos);
  EXPECT_EQ(text.find("PROGRAM-DATE-TIME"), std::string::npos);
  EXPECT_NE(text.find("TrackNumber=2"), std::string::npos);
}

TEST(HlsPlaylist, OnGapAndInitChanges) {
  MediaPlaylistSpec spec;
  spec.token = "T";
  spec.discontinuity = DiscontinuityRule::on_gap;
  // 100 -> 101: 1931 -> 3787 expected 3788 (1 ms: no gap); 101 -> 102: 213 ms late: a gap.
  auto text = media_playlist(spec, three());
  EXPECT_EQ(count(text, "#EXT-X-DISCONTINUITY\n"), 1u);
  EXPECT_LT(text.find("#EXT-X-DISCONTINUITY\n"), text.find("FragmentNumber=102"));
  // A new init: a discontinuity and a new map before it, in every mode.
  spec.discontinuity = DiscontinuityRule::never;
  text = media_playlist(spec, three(9));
  EXPECT_EQ(count(text, "#EXT-X-MAP:"), 2u);
  EXPECT_NE(text.find("SequenceNumber=9"), std::string::npos);
  EXPECT_EQ(count(text, "#EXT-X-DISCONTINUITY\n"), 1u);
}

TEST(HlsPlaylist, TsPlaylistsHaveNoMapAndTsUris) {
  MediaPlaylistSpec spec;
  spec.token = "T";
  spec.mpeg_ts = true;
  const auto text = media_playlist(spec, three());
  EXPECT_EQ(text.find("EXT-X-MAP"), std::string::npos);
  EXPECT_NE(text.find("#EXT-X-VERSION:3\n"), std::string::npos);
  EXPECT_NE(text.find("getTSFragment.ts?FragmentNumber=101&SessionToken=T\n"), std::string::npos);
}

TEST(HlsPlaylist, MasterWithAudioRendition) {
  VariantTrack video{1, "avc1.4d4032", 2592, 1944, 15.02};
  VariantTrack audio{2, "mp4a.40.2", 0, 0, 0};
  const auto text = master_playlist("T", false, video, audio, 2583047);
  EXPECT_NE(text.find("#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio\""), std::string::npos);
  EXPECT_NE(text.find("URI=\"getHLSMediaPlaylist.m3u8?SessionToken=T&TrackNumber=2\""), std::string::npos);
  EXPECT_NE(text.find("BANDWIDTH=2583047,CODECS=\"avc1.4d4032,mp4a.40.2\",RESOLUTION=2592x1944,FRAME-RATE=15.02,"
                      "AUDIO=\"audio\"\ngetHLSMediaPlaylist.m3u8?SessionToken=T&TrackNumber=1\n"),
            std::string::npos)
      << text;
  const auto ts = master_playlist("T", true, video, audio, 1);
  EXPECT_EQ(ts.find("EXT-X-MEDIA"), std::string::npos);
  EXPECT_NE(ts.find("CODECS=\"avc1.4d4032,mp4a.40.2\""), std::string::npos);
}

TEST(DashManifest, StaticTimelineAndKvsAttributes) {
  DashSpec spec;
  spec.token = "T";
  spec.display_timestamp = true;
  spec.display_fragment_number = true;
  VariantTrack video{1, "avc1.42c01e", 640, 360, 25};
  const auto segs = three();
  const auto text = dash_manifest(spec, video, std::nullopt, segs);
  EXPECT_NE(text.find("type=\"static\""), std::string::npos);
  EXPECT_NE(text.find("xmlns:kvs="), std::string::npos);
  EXPECT_NE(text.find("mediaPresentationDuration=\"PT6.394S\""), std::string::npos) << text;
  EXPECT_NE(text.find("<S t=\"1643353235931\" d=\"1857\" kvs:ts=\"2022-01-28T07:00:35.931Z\" kvs:fn=\"100\"/>"),
            std::string::npos);
  EXPECT_NE(text.find("media=\"getMP4MediaFragment.mp4?SessionToken=T&amp;TrackNumber=1&amp;Time=$Time$\""),
            std::string::npos);
  EXPECT_EQ(count(text, "<AdaptationSet"), 1u);
  spec.dynamic = true;
  spec.now_ms = 1'643'353'240'000;
  const auto live = dash_manifest(spec, video, VariantTrack{2, "mp4a.40.2", 0, 0, 0}, segs);
  EXPECT_NE(live.find("type=\"dynamic\""), std::string::npos);
  EXPECT_EQ(count(live, "<AdaptationSet"), 2u);
}

}  // namespace
}  // namespace kvsd::media
