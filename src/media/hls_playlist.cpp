#include "media/hls_playlist.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>

namespace kvsd::media {

namespace {

std::string track_query(std::string_view token, std::uint64_t track) {
  std::string q = "SessionToken=";
  q += token;
  q += "&TrackNumber=" + std::to_string(track);
  return q;
}

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

bool gap_between(const PlaylistSegment& prev, const PlaylistSegment& next) {
  const auto expected = prev.start_ms + prev.duration_ms;
  const auto d = next.start_ms - expected;
  return d > kDiscontinuityGapMs || d < -kDiscontinuityGapMs;
}

}  // namespace

std::string extinf_seconds(std::int64_t ms) {
  if (ms < 0) ms = 0;
  std::string s = std::to_string(ms / 1000);
  auto frac = ms % 1000;
  if (frac != 0) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%03lld", static_cast<long long>(frac));
    std::string f = buf;
    while (!f.empty() && f.back() == '0') f.pop_back();
    s += "." + f;
  }
  return s;
}

std::string iso8601_ms(std::int64_t epoch_ms) {
  auto secs = static_cast<std::time_t>(epoch_ms / 1000);
  auto ms = epoch_ms % 1000;
  if (ms < 0) {
    ms += 1000;
    --secs;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

std::string media_playlist(const MediaPlaylistSpec& spec, std::span<const PlaylistSegment> segments) {
  std::int64_t longest = 0;
  for (const auto& s : segments) longest = std::max(longest, s.duration_ms);
  std::string out;
  out.reserve(256 + segments.size() * (spec.token.size() + 160));
  out += "#EXTM3U\n";
  out += spec.mpeg_ts ? "#EXT-X-VERSION:3\n" : "#EXT-X-VERSION:7\n";
  if (spec.vod) out += "#EXT-X-PLAYLIST-TYPE:VOD\n";
  // RFC 8216 4.3.3.1: every EXTINF rounded to the nearest integer is at most TARGETDURATION. The
  // nearest (not the ceiling) keeps players' live edge (a few target durations back) close.
  out += "#EXT-X-TARGETDURATION:" + std::to_string(std::max<std::int64_t>(1, (longest + 500) / 1000)) + "\n";
  out += "#EXT-X-MEDIA-SEQUENCE:" + std::to_string(segments.empty() ? 0 : segments.front().sequence) + "\n";
  if (!spec.vod) out += "#EXT-X-DISCONTINUITY-SEQUENCE:" + std::to_string(spec.discontinuity_sequence) + "\n";
  out += "#EXT-X-INDEPENDENT-SEGMENTS\n";
  const auto query = track_query(spec.token, spec.track_number);
  const PlaylistSegment* prev = nullptr;
  for (const auto& s : segments) {
    const bool header_changed = prev != nullptr && prev->header_id != s.header_id;
    bool discontinuity = header_changed;
    if (spec.discontinuity == DiscontinuityRule::always) discontinuity = true;
    if (spec.discontinuity == DiscontinuityRule::on_gap && prev != nullptr && gap_between(*prev, s))
      discontinuity = true;
    if (discontinuity) out += "#EXT-X-DISCONTINUITY\n";
    if (!spec.mpeg_ts && (prev == nullptr || header_changed)) {
      out += "#EXT-X-MAP:URI=\"getMP4InitFragment.mp4?" + query + "&SequenceNumber=" + std::to_string(s.header_id) +
             "\"\n";
    }
    if (spec.program_date_time) out += "#EXT-X-PROGRAM-DATE-TIME:" + iso8601_ms(s.start_ms) + "\n";
    out += "#EXTINF:" + extinf_seconds(s.duration_ms) + ",\n";
    if (spec.mpeg_ts) {
      out += "getTSFragment.ts?FragmentNumber=" + s.fragment_number + "&SessionToken=";
      out += spec.token;
      out += "\n";
    } else {
      out += "getMP4MediaFragment.mp4?FragmentNumber=" + s.fragment_number + "&" + query + "\n";
    }
    prev = &s;
  }
  if (spec.ended) out += "#EXT-X-ENDLIST\n";
  return out;
}

std::string master_playlist(std::string_view token, bool mpeg_ts, const VariantTrack& main,
                            const std::optional<VariantTrack>& audio, std::uint64_t bandwidth_bps) {
  std::string out = "#EXTM3U\n";
  out += mpeg_ts ? "#EXT-X-VERSION:3\n" : "#EXT-X-VERSION:7\n";
  out += "#EXT-X-INDEPENDENT-SEGMENTS\n";
  std::string codecs = main.codec;
  if (audio) codecs += "," + audio->codec;
  if (audio && !mpeg_ts) {
    out += "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio\",NAME=\"audio\",AUTOSELECT=YES,DEFAULT=YES,URI=\"";
    out += "getHLSMediaPlaylist.m3u8?" + track_query(token, audio->track_number) + "\"\n";
  }
  out += "#EXT-X-STREAM-INF:BANDWIDTH=" + std::to_string(std::max<std::uint64_t>(bandwidth_bps, 1)) + ",CODECS=\"" +
         codecs + "\"";
  if (main.width > 0 && main.height > 0)
    out += ",RESOLUTION=" + std::to_string(main.width) + "x" + std::to_string(main.height);
  if (main.frame_rate > 0) out += ",FRAME-RATE=" + fixed(main.frame_rate, 2);
  if (audio && !mpeg_ts) out += ",AUDIO=\"audio\"";
  out += "\n";
  out += "getHLSMediaPlaylist.m3u8?" + track_query(token, main.track_number) + "\n";
  return out;
}

std::string dash_manifest(const DashSpec& spec, const VariantTrack& main, const std::optional<VariantTrack>& audio,
                          std::span<const PlaylistSegment> segments) {
  std::int64_t total = 0;
  for (const auto& s : segments) total += std::max<std::int64_t>(s.duration_ms, 0);
  const auto first = segments.empty() ? 0 : segments.front().start_ms;
  std::string utc_timing;  // dynamic MPDs carry the server's clock (dash.js syncs to it)
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += "<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" xmlns:kvs=\"urn:kvsd:dash:2024\" ";
  out += "profiles=\"urn:mpeg:dash:profile:isoff-live:2011\" minBufferTime=\"PT2S\" ";
  if (spec.dynamic) {
    out += "type=\"dynamic\" availabilityStartTime=\"1970-01-01T00:00:00Z\" publishTime=\"" + iso8601_ms(spec.now_ms) +
           "\" minimumUpdatePeriod=\"PT1S\" timeShiftBufferDepth=\"PT" + extinf_seconds(total + 10'000) +
           "S\" suggestedPresentationDelay=\"PT3S\">\n";
    out += "<Period id=\"0\" start=\"PT0S\">\n";
    utc_timing =
        "<UTCTiming schemeIdUri=\"urn:mpeg:dash:utc:direct:2014\" value=\"" + iso8601_ms(spec.now_ms) + "\"/>\n";
  } else {
    out += "type=\"static\" mediaPresentationDuration=\"PT" + extinf_seconds(total) + "S\">\n";
    out += "<Period id=\"0\" start=\"PT0S\">\n";
  }
  std::string timeline = "<SegmentTimeline>\n";
  for (const auto& s : segments) {
    timeline += "<S t=\"" + std::to_string(s.start_ms) + "\" d=\"" +
                std::to_string(std::max<std::int64_t>(s.duration_ms, 1)) + "\"";
    if (spec.display_timestamp) timeline += " kvs:ts=\"" + iso8601_ms(s.start_ms) + "\"";
    if (spec.display_fragment_number) timeline += " kvs:fn=\"" + s.fragment_number + "\"";
    timeline += "/>\n";
  }
  timeline += "</SegmentTimeline>\n";
  const auto set = [&](const VariantTrack& t, bool is_audio, int id) {
    const auto q =
        std::string("SessionToken=") + std::string(spec.token) + "&amp;TrackNumber=" + std::to_string(t.track_number);
    std::string a = "<AdaptationSet id=\"" + std::to_string(id) + "\" contentType=\"" + (is_audio ? "audio" : "video") +
                    "\" mimeType=\"" + (is_audio ? "audio/mp4" : "video/mp4") +
                    "\" segmentAlignment=\"true\" startWithSAP=\"1\">\n";
    a += "<Representation id=\"" + std::to_string(t.track_number) + "\" codecs=\"" + t.codec + "\" bandwidth=\"" +
         std::to_string(std::max<std::uint64_t>(spec.bandwidth_bps, 1)) + "\"";
    if (!is_audio && t.width > 0)
      a += " width=\"" + std::to_string(t.width) + "\" height=\"" + std::to_string(t.height) + "\"";
    if (!is_audio && t.frame_rate > 0) a += " frameRate=\"" + fixed(t.frame_rate, 2) + "\"";
    a += ">\n";
    a += "<SegmentTemplate timescale=\"1000\" presentationTimeOffset=\"" + std::to_string(spec.dynamic ? 0 : first) +
         "\" initialization=\"getMP4InitFragment.mp4?" + q + "\" media=\"getMP4MediaFragment.mp4?" + q +
         "&amp;Time=$Time$\">\n";
    a += timeline;
    a += "</SegmentTemplate>\n</Representation>\n</AdaptationSet>\n";
    return a;
  };
  const bool main_is_audio = main.width == 0 && main.codec.rfind("mp4a", 0) == 0;
  out += set(main, main_is_audio, 1);
  if (audio) out += set(*audio, true, 2);
  out += "</Period>\n" + utc_timing + "</MPD>\n";
  return out;
}

}  // namespace kvsd::media
