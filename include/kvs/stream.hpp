#pragma once
// Stream vocabulary: what DescribeStream returns about one stream (field names follow the
// Kinesis Video Streams StreamInfo shape).

#include <cstdint>
#include <map>
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
};

}  // namespace kvs
