#pragma once
// MemoryStreamStore: a kvs::StreamStore held in memory, for unit tests of the layers above
// storage. It implements what handlers of ingest and reads need (create, describe by name or
// ARN, remove, list in name order); the other calls answer `internal` ("not in the memory
// store"), so a test that reaches one fails visibly instead of passing on a stub.

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "kvs/stream_store.hpp"

namespace kvsd::testing_support {

class MemoryStreamStore final : public kvs::StreamStore {
 public:
  kvs::Result<kvs::StreamInfo> create(const kvs::CreateStreamInput& in) override {
    std::lock_guard lock(mu_);
    if (streams_.contains(in.stream_name)) return kvs::Error{kvs::errc::resource_in_use, "stream exists"};
    kvs::StreamInfo s;
    s.device_name = in.device_name;
    s.stream_name = in.stream_name;
    s.media_type = in.media_type;
    s.kms_key_id = in.kms_key_id;
    s.data_retention_in_hours = in.data_retention_in_hours;
    s.tags = in.tags;
    s.stream_id = ++last_id_;
    s.creation_time_ms = 1'700'000'000'000 + static_cast<std::int64_t>(s.stream_id);
    s.version = "v" + std::to_string(s.stream_id);
    s.stream_arn = "arn:aws:kinesisvideo:us-west-2:000000000000:stream/" + s.stream_name + "/" +
                   std::to_string(s.creation_time_ms);
    streams_[s.stream_name] = s;
    return s;
  }

  kvs::Result<kvs::StreamInfo> describe(const kvs::StreamRef& ref) override {
    std::lock_guard lock(mu_);
    for (const auto& [name, s] : streams_) {
      if ((!ref.name.empty() && ref.name == name) || (!ref.arn.empty() && ref.arn == s.stream_arn)) return s;
    }
    return kvs::Error{kvs::errc::resource_not_found, "no such stream"};
  }

  kvs::Result<kvs::ListStreamsOutput> list(const kvs::ListStreamsInput& in) override {
    std::lock_guard lock(mu_);
    kvs::ListStreamsOutput out;
    for (const auto& [name, s] : streams_) {
      if (name.starts_with(in.name_prefix) && out.streams.size() < in.max_results) out.streams.push_back(s);
    }
    return out;
  }

  kvs::Status remove(const kvs::StreamRef& ref, const std::string& /*current_version*/) override {
    std::lock_guard lock(mu_);
    for (auto it = streams_.begin(); it != streams_.end(); ++it) {
      if (it->first == ref.name || (!ref.arn.empty() && it->second.stream_arn == ref.arn)) {
        streams_.erase(it);
        return kvs::Unit{};
      }
    }
    return kvs::Error{kvs::errc::resource_not_found, "no such stream"};
  }

  kvs::Result<kvs::StreamInfo> update(const kvs::UpdateStreamInput&) override { return missing(); }
  kvs::Result<kvs::StreamInfo> update_retention(const kvs::UpdateRetentionInput&) override { return missing(); }
  kvs::Status tag(const kvs::StreamRef&, const kvs::Tags&) override { return missing(); }
  kvs::Status untag(const kvs::StreamRef&, const std::vector<std::string>&) override { return missing(); }
  kvs::Result<kvs::Tags> list_tags(const kvs::StreamRef&) override { return missing(); }
  kvs::Result<std::optional<kvs::ImageGenerationConfiguration>> image_generation_configuration(
      const kvs::StreamRef&) override {
    return missing();
  }
  kvs::Status set_image_generation_configuration(const kvs::StreamRef&,
                                                 const std::optional<kvs::ImageGenerationConfiguration>&) override {
    return missing();
  }
  kvs::Result<std::optional<kvs::NotificationConfiguration>> notification_configuration(
      const kvs::StreamRef&) override {
    return missing();
  }
  kvs::Status set_notification_configuration(const kvs::StreamRef&,
                                             const std::optional<kvs::NotificationConfiguration>&) override {
    return missing();
  }

 private:
  static kvs::Error missing() { return kvs::Error{kvs::errc::internal, "not in the memory store"}; }

  std::mutex mu_;
  std::uint64_t last_id_ = 0;
  std::map<std::string, kvs::StreamInfo> streams_;
};

}  // namespace kvsd::testing_support
