#pragma once
// Internal to the playback handlers (playback_*.cpp): query parsing, the session lookup every
// GET starts with, and what a playlist says about the stream's tracks. Not a public interface.

#include <boost/asio/awaitable.hpp>
#include <map>
#include <optional>
#include <string>

#include "api/playback.hpp"
#include "http/aws_error.hpp"
#include "media/hls_playlist.hpp"
#include "media/hls_segments.hpp"

namespace kvsd::api::detail {

void add_playback_session_routes(http::Router& router, const PlaybackContext& ctx);
void add_playback_get_routes(http::Router& router, const PlaybackContext& ctx);

// Decoded query parameters (last value wins); malformed percent escapes are kept as they are.
std::map<std::string, std::string> parse_query(std::string_view query);

// The session of the request's SessionToken, or the 403 error.
kvs::Result<PlaybackSession> session_of(const PlaybackContext& ctx, const std::map<std::string, std::string>& q,
                                        PlaybackProtocol protocol);

// The tracks to announce (main = video, or audio alone; audio = AAC on track 2) from a header.
struct AnnouncedTracks {
  media::VariantTrack main;
  std::optional<media::VariantTrack> audio;
};
kvs::Result<AnnouncedTracks> announced_tracks(std::span<const std::uint8_t> header, bool mpeg_ts,
                                              const std::vector<kvs::FragmentRecord>& sample);

// Sends a GET response body with its content type.
boost::asio::awaitable<void> send_body(http::ResponseWriter& w, const char* content_type, std::string body);

}  // namespace kvsd::api::detail
