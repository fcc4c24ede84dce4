#include "api/playback_common.hpp"

#include <algorithm>

#include "api/media_read_common.hpp"
#include "kvs/hex.hpp"

namespace kvsd::api::detail {

namespace {

std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const int hi = kvs::hex_digit_value(s[i + 1]);
      const int lo = kvs::hex_digit_value(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += s[i] == '+' ? ' ' : s[i];
  }
  return out;
}

}  // namespace

std::map<std::string, std::string> parse_query(std::string_view query) {
  std::map<std::string, std::string> out;
  std::size_t pos = 0;
  while (pos <= query.size()) {
    auto amp = query.find('&', pos);
    if (amp == std::string_view::npos) amp = query.size();
    const auto part = query.substr(pos, amp - pos);
    if (!part.empty()) {
      const auto eq = part.find('=');
      out[percent_decode(part.substr(0, eq))] =
          eq == std::string_view::npos ? std::string() : percent_decode(part.substr(eq + 1));
    }
    pos = amp + 1;
  }
  return out;
}

kvs::Result<PlaybackSession> session_of(const PlaybackContext& ctx, const std::map<std::string, std::string>& q,
                                        PlaybackProtocol protocol) {
  const auto it = q.find("SessionToken");
  const std::string_view token = it == q.end() ? std::string_view() : std::string_view(it->second);
  return ctx.signer->verify(token, protocol, ctx.read->now_ms());
}

kvs::Result<AnnouncedTracks> announced_tracks(std::span<const std::uint8_t> header, bool mpeg_ts,
                                              const std::vector<kvs::FragmentRecord>& sample) {
  auto tracks = media::playback_tracks(header, mpeg_ts);
  if (auto* err = std::get_if<media::MediaError>(&tracks)) return media_error(*err);
  const auto& list = std::get<std::vector<media::PlaybackTrack>>(tracks);
  if (list.empty()) return kvs::Error{kvs::errc::unsupported_media_type, "the stream has no playable track"};
  AnnouncedTracks out;
  const auto to_variant = [&](const media::PlaybackTrack& t) {
    media::VariantTrack v;
    v.track_number = t.track_number;
    v.codec = t.codec_string;
    v.width = t.width;
    v.height = t.height;
    if (t.kind != media::TrackKind::aac) {
      // Frames per second from the fragments' own statistics: over consecutive fragments, frames
      // per producer-time span (a fragment's stored duration also counts audio past its end).
      const auto frames_of = [&](const kvs::FragmentRecord& f) {
        std::uint64_t n = 0;
        for (const auto& tr : f.tracks)
          if (tr.track_number == t.track_number) n += tr.frames;
        return n;
      };
      std::uint64_t frames = 0;
      std::int64_t ms = 0;
      if (sample.size() >= 2) {
        for (std::size_t i = 0; i + 1 < sample.size(); ++i) frames += frames_of(sample[i]);
        ms = sample.back().producer_timestamp_ms - sample.front().producer_timestamp_ms;
      } else if (sample.size() == 1) {
        frames = frames_of(sample.front());
        ms = sample.front().duration_ms;
      }
      if (frames > 0 && ms > 0) v.frame_rate = static_cast<double>(frames) * 1000.0 / static_cast<double>(ms);
    }
    return v;
  };
  out.main = to_variant(list.front());
  for (std::size_t i = 1; i < list.size(); ++i)
    if (list[i].kind == media::TrackKind::aac) out.audio = to_variant(list[i]);
  return out;
}

boost::asio::awaitable<void> send_body(http::ResponseWriter& w, const char* content_type, std::string body) {
  http::Headers h{{"content-type", content_type}, {"cache-control", "no-cache"}};
  co_await w.send(200, std::move(h), std::move(body));
}

}  // namespace kvsd::api::detail
