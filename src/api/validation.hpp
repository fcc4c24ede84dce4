#pragma once
// Input validation for the control plane: every field against the constraints of the
// kinesisvideo model (lengths, patterns, ranges, enums). Failures are kvs::errc::invalid_argument
// with a message naming the field; a body that is not a JSON object is errc::serialization.
// Pure functions: no I/O, safe on any thread.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kvs/stream_store.hpp"

namespace kvsd::api::validation {

// Constraint predicates (the model's patterns).
bool is_stream_name(std::string_view s);   // 1-256, [a-zA-Z0-9_.-]+
bool is_device_name(std::string_view s);   // 1-128, [a-zA-Z0-9_.-]+
bool is_media_type(std::string_view s);    // 1-128, type/subtype(,type/subtype)*
bool is_resource_arn(std::string_view s);  // 1-1024, arn:[a-z\d-]+:kinesisvideo:[a-z0-9-]+:[0-9]+:[a-z]+/name/[0-9]+
bool is_version(std::string_view s);       // 1-64, [a-zA-Z0-9]+
bool is_next_token(std::string_view s);    // 0-512, [a-zA-Z0-9+/=]*
bool is_tag_key(std::string_view s);       // 1-128 characters of \p{L}\p{Z}\p{N}_.:/=+-@
bool is_tag_value(std::string_view s);     // 0-256 characters of the same set
// DestinationUri: 1-255, ^[a-zA-Z_0-9]+:(//)?([^/]+)/?([^*]*)$
bool is_destination_uri(std::string_view s);
// DestinationRegion: 9-14, ^[a-z]+(-[a-z]+)?-[a-z]+-[0-9]$
bool is_destination_region(std::string_view s);
// FormatConfig JPEGQuality value: the model's FormatConfigValue (1-256, [a-zA-Z_0-9]+) and the
// documented range, a decimal integer 1-100.
bool is_jpeg_quality(std::string_view s);

// Parses the request body: an empty body is `{}`; anything but a JSON object is an error.
kvs::Result<nlohmann::json> parse_object(const std::string& body);

// Typed field readers. A missing (or null) optional field leaves `out` empty.
std::optional<kvs::Error> optional_string(const nlohmann::json& j, const char* field, bool (*valid)(std::string_view),
                                          const char* constraint, std::optional<std::string>& out);
std::optional<kvs::Error> required_string(const nlohmann::json& j, const char* field, bool (*valid)(std::string_view),
                                          const char* constraint, std::string& out);
std::optional<kvs::Error> optional_int(const nlohmann::json& j, const char* field, std::int64_t min, std::int64_t max,
                                       std::optional<std::int64_t>& out);
// Tags as a JSON map {key: value} (CreateStream, TagStream): 1-50 entries.
std::optional<kvs::Error> tag_map(const nlohmann::json& j, const char* field, bool required, kvs::Tags& out);
// Tags as a JSON list [{"Key","Value"}] (TagResource): 1-50 entries.
std::optional<kvs::Error> tag_list(const nlohmann::json& j, const char* field, kvs::Tags& out);
// A list of tag keys (TagKeyList): 1-50 entries.
std::optional<kvs::Error> tag_keys(const nlohmann::json& j, const char* field, std::vector<std::string>& out);
// The ImageGenerationConfiguration / NotificationConfiguration structures in member `field`;
// missing or null leaves `out` empty (the Update operations then remove the configuration).
// Errors name the member path, e.g. "ImageGenerationConfiguration.DestinationConfig.Uri".
std::optional<kvs::Error> image_generation_configuration(const nlohmann::json& j, const char* field,
                                                         std::optional<kvs::ImageGenerationConfiguration>& out);
std::optional<kvs::Error> notification_configuration(const nlohmann::json& j, const char* field,
                                                     std::optional<kvs::NotificationConfiguration>& out);
// "StreamName or StreamARN": exactly one of the two.
std::optional<kvs::Error> stream_ref(const nlohmann::json& j, kvs::StreamRef& out);

}  // namespace kvsd::api::validation
