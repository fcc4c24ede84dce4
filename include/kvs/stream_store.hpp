#pragma once
// StreamStore: the durable catalogue of streams (control plane state). Implementations are
// blocking (they may fsync); callers on I/O threads go through the offload helper. All methods
// are safe to call from several threads at once.
//
// Errors (kvs::errc): resource_in_use (create of an existing name), resource_not_found (no such
// stream, or an ARN whose creation time does not match), version_mismatch (CurrentVersion given
// and different), tags_per_resource_exceeded (more than kMaxTagsPerStream tags), invalid_argument
// (a retention change below zero or above the maximum), no_data_retention (an image generation or
// notification configuration set on a stream whose retention is 0), internal (storage failure).

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "kvs/error.hpp"
#include "kvs/result.hpp"
#include "kvs/stream.hpp"

namespace kvs {

inline constexpr std::size_t kMaxTagsPerStream = 50;
inline constexpr std::int32_t kMaxDataRetentionHours = 87600;

// Names a stream: exactly one of the two is non-empty (the API validates that).
struct StreamRef {
  std::string name;
  std::string arn;
};

struct CreateStreamInput {
  std::string device_name;
  std::string stream_name;
  std::string media_type;
  std::string kms_key_id;
  std::int32_t data_retention_in_hours = 0;
  Tags tags;
};

struct UpdateStreamInput {
  StreamRef ref;
  std::string current_version;
  std::optional<std::string> device_name;
  std::optional<std::string> media_type;
};

enum class RetentionOperation { increase, decrease };

struct UpdateRetentionInput {
  StreamRef ref;
  std::string current_version;
  RetentionOperation operation = RetentionOperation::increase;
  std::int32_t change_in_hours = 0;
};

struct ListStreamsInput {
  std::string name_prefix;  // empty: all streams
  std::string next_token;   // empty: from the start
  std::size_t max_results = 10000;
};

struct ListStreamsOutput {
  std::vector<StreamInfo> streams;
  std::string next_token;  // empty: no more
};

class StreamStore {
 public:
  virtual ~StreamStore() = default;
  // Returns the new stream (status ACTIVE, with ARN and version).
  virtual Result<StreamInfo> create(const CreateStreamInput& in) = 0;
  virtual Result<StreamInfo> describe(const StreamRef& ref) = 0;
  // Streams in name order; deleted streams never appear.
  virtual Result<ListStreamsOutput> list(const ListStreamsInput& in) = 0;
  // Marks the stream DELETING; from then on it is invisible to every other call.
  // `current_version` empty: no check.
  virtual Status remove(const StreamRef& ref, const std::string& current_version) = 0;
  virtual Result<StreamInfo> update(const UpdateStreamInput& in) = 0;
  virtual Result<StreamInfo> update_retention(const UpdateRetentionInput& in) = 0;
  // Adds or replaces tags; fails without change when the result would exceed kMaxTagsPerStream.
  virtual Status tag(const StreamRef& ref, const Tags& tags) = 0;
  virtual Status untag(const StreamRef& ref, const std::vector<std::string>& keys) = 0;
  virtual Result<Tags> list_tags(const StreamRef& ref) = 0;
  // The stored configuration, or nullopt when none was set. Changing either configuration changes
  // nothing else about the stream (not even its version); nullopt removes it. Setting one on a
  // stream with zero data retention fails with no_data_retention.
  virtual Result<std::optional<ImageGenerationConfiguration>> image_generation_configuration(const StreamRef& ref) = 0;
  virtual Status set_image_generation_configuration(const StreamRef& ref,
                                                    const std::optional<ImageGenerationConfiguration>& config) = 0;
  virtual Result<std::optional<NotificationConfiguration>> notification_configuration(const StreamRef& ref) = 0;
  virtual Status set_notification_configuration(const StreamRef& ref,
                                                const std::optional<NotificationConfiguration>& config) = 0;
};

}  // namespace kvs
