#pragma once
// Internal to the read handlers (media_read*.cpp, get_media.cpp, ...): request parsing shared by
// them, the offloaded stream lookup, fragment JSON and the route adapter. Not a public interface.

#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "api/media_read.hpp"
#include "http/aws_error.hpp"
#include "media/media_error.hpp"

namespace kvsd::api::detail {

using Json = nlohmann::json;

using ReadHandler = boost::asio::awaitable<void> (*)(const MediaReadContext&, http::Request&, http::ResponseWriter&,
                                                     const Json&);
void add_read_route(http::Router& router, const MediaReadContext& ctx, const char* path, const char* name,
                    ReadHandler handler);

void add_list_fragments_route(http::Router& router, const MediaReadContext& ctx);
void add_get_media_for_fragment_list_route(http::Router& router, const MediaReadContext& ctx);
void add_get_media_route(http::Router& router, const MediaReadContext& ctx);
void add_get_clip_route(http::Router& router, const MediaReadContext& ctx);
void add_get_images_route(http::Router& router, const MediaReadContext& ctx);

// Sends one fragment as an MKV chunk: chunk_prefix(header), the cluster bytes, and `trailer`
// when not empty. False when the client is gone (or the header is unusable: logged).
boost::asio::awaitable<bool> send_chunk(http::ResponseWriter& w, const std::vector<std::uint8_t>& header,
                                        const kvs::FragmentRecord& f, const std::vector<std::uint8_t>& cluster,
                                        const std::vector<std::uint8_t>& trailer);
// The same with the cluster bytes sent from their segment file (sendfile where possible).
boost::asio::awaitable<bool> send_chunk(http::ResponseWriter& w, const std::vector<std::uint8_t>& header,
                                        const kvs::FragmentRecord& f, const kvs::ClusterFile& cluster);

// A request timestamp: a JSON number of epoch seconds (integer from boto3/CLI, fractional from
// JS), as epoch milliseconds. Missing: error when required, else nullopt.
std::optional<kvs::Error> timestamp_ms(const Json& j, const char* field, bool required,
                                       std::optional<std::int64_t>& out);

// A TimestampRange object (named `path` in messages): StartTimestamp required, EndTimestamp when
// end_required; End before Start is an error.
std::optional<kvs::Error> timestamp_range(const Json& range, const std::string& path, bool end_required,
                                          std::optional<std::int64_t>& start, std::optional<std::int64_t>& end);

// A FragmentSelector / ClipFragmentSelector object: FragmentSelectorType and TimestampRange with
// both timestamps (Start <= End checked).
struct TimestampSelector {
  kvs::TimestampKind kind = kvs::TimestampKind::server;
  std::int64_t start_ms = 0;
  std::int64_t end_ms = 0;
};
std::optional<kvs::Error> timestamp_selector(const Json& j, const char* field, TimestampSelector& out);

// The stream the request names, if it exists and is not being deleted (offloaded).
boost::asio::awaitable<kvs::Result<kvs::StreamInfo>> resolve_stream(const MediaReadContext& ctx,
                                                                    const kvs::StreamRef& ref);

// As resolve_stream, and a stream with DataRetentionInHours 0 is NoDataRetentionException (GetClip,
// GetImages, HLS and DASH need stored data).
boost::asio::awaitable<kvs::Result<kvs::StreamInfo>> resolve_retained_stream(const MediaReadContext& ctx,
                                                                             const kvs::StreamRef& ref);

// Epoch milliseconds as a JSON number of epoch seconds (integer when whole).
Json epoch_seconds_json(std::int64_t ms);

// True for 1-128 decimal digits (the FragmentNumber pattern).
bool is_fragment_number(std::string_view s);

// The AWS error for a media read that failed (GetClip, HLS/DASH segments, MPEG-TS chunks): the
// one mapping of media::MediaErrc.
kvs::Error media_error(const media::MediaError& e);

}  // namespace kvsd::api::detail
