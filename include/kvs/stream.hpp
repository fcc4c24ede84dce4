#pragma once
// Stream vocabulary: what DescribeStream returns about one stream (field names follow the
// Kinesis Video Streams StreamInfo shape).

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace kvs {

enum class StreamStatus { creating, active, updating, deleting };

// "CREATING", "ACTIVE", "UPDATING", "DELETING" (the AWS spelling).
inline const char* to_string(StreamStatus s) noexcept {
  switch (s) {
    case StreamStatus::creating:
      return "CREATING";
    case StreamStatus::active:
      return "ACTIVE";
    case StreamStatus::updating:
      return "UPDATING";
    case StreamStatus::deleting:
      return "DELETING";
  }
  return "ACTIVE";
}

using Tags = std::map<std::string, std::string>;

struct StreamInfo {
  std::string device_name;  // empty: not set
  std::string stream_name;
  std::string stream_arn;
  std::string media_type;  // empty: not set
  std::string kms_key_id;  // empty: not set
  std::string version;     // changes on every update
  StreamStatus status = StreamStatus::active;
  std::int64_t creation_time_ms = 0;  // epoch milliseconds
  std::int32_t data_retention_in_hours = 0;
  Tags tags;
  // Internal: the number that keys this stream's fragments and blobs (never shown to clients).
  // Unique per server for the life of the data dir; a stream re-created under the same name
  // gets a new one.
  std::uint64_t stream_id = 0;
};

// Per-stream image generation settings (the ImageGenerationConfiguration shape). Stored and
// returned only: kvsd generates no images yet. Enum members hold the AWS spelling.
struct ImageGenerationConfiguration {
  std::string status;               // "ENABLED" | "DISABLED"
  std::string image_selector_type;  // "SERVER_TIMESTAMP" | "PRODUCER_TIMESTAMP"
  std::string destination_uri;
  std::string destination_region;
  std::int32_t sampling_interval_ms = 0;
  std::string format;                                // "JPEG" | "PNG"
  std::map<std::string, std::string> format_config;  // empty: not set
  std::optional<std::int32_t> width_pixels;
  std::optional<std::int32_t> height_pixels;

  bool operator==(const ImageGenerationConfiguration&) const = default;
};

// Per-stream notification settings (the NotificationConfiguration shape). Stored and returned
// only: kvsd sends no notifications yet.
struct NotificationConfiguration {
  std::string status;  // "ENABLED" | "DISABLED"
  std::string destination_uri;

  bool operator==(const NotificationConfiguration&) const = default;
};

}  // namespace kvs
