#pragma once
// RocksDbStreamStore: the StreamStore on RocksDB. Owns the rocksdb::DB (one column family
// "streams", key = stream name, value = proto StreamRecord). Every write uses sync=true, so a
// returned success survives a crash. Read-modify-write operations are serialised by one mutex.
//
// Deleted streams are kept as DELETING records (so a later data-plane cleanup can find them) but
// are invisible to every call; creating a stream with that name again replaces the record.

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "kvs/stream_store.hpp"

namespace kvsd::storage {

struct StreamStoreOptions {
  std::string region = "us-west-2";
  std::string account_id = "123456789012";
  // The clock (epoch milliseconds); tests may replace it.
  std::function<std::int64_t()> now_ms;
};

class RocksDbStreamStore final : public kvs::StreamStore {
 public:
  // Opens (creating if needed) the database in `path`. Throws std::runtime_error on failure.
  RocksDbStreamStore(const std::string& path, StreamStoreOptions options);
  ~RocksDbStreamStore() override;
  RocksDbStreamStore(const RocksDbStreamStore&) = delete;
  RocksDbStreamStore& operator=(const RocksDbStreamStore&) = delete;

  kvs::Result<kvs::StreamInfo> create(const kvs::CreateStreamInput& in) override;
  kvs::Result<kvs::StreamInfo> describe(const kvs::StreamRef& ref) override;
  kvs::Result<kvs::ListStreamsOutput> list(const kvs::ListStreamsInput& in) override;
  kvs::Status remove(const kvs::StreamRef& ref, const std::string& current_version) override;
  kvs::Result<kvs::StreamInfo> update(const kvs::UpdateStreamInput& in) override;
  kvs::Result<kvs::StreamInfo> update_retention(const kvs::UpdateRetentionInput& in) override;
  kvs::Status tag(const kvs::StreamRef& ref, const kvs::Tags& tags) override;
  kvs::Status untag(const kvs::StreamRef& ref, const std::vector<std::string>& keys) override;
  kvs::Result<kvs::Tags> list_tags(const kvs::StreamRef& ref) override;
  kvs::Result<std::optional<kvs::ImageGenerationConfiguration>> image_generation_configuration(
      const kvs::StreamRef& ref) override;
  kvs::Status set_image_generation_configuration(
      const kvs::StreamRef& ref, const std::optional<kvs::ImageGenerationConfiguration>& config) override;
  kvs::Result<std::optional<kvs::NotificationConfiguration>> notification_configuration(
      const kvs::StreamRef& ref) override;
  kvs::Status set_notification_configuration(const kvs::StreamRef& ref,
                                             const std::optional<kvs::NotificationConfiguration>& config) override;

 private:
  struct Db;
  std::unique_ptr<Db> db_;
  StreamStoreOptions options_;
  std::mutex mutex_;  // serialises read-modify-write
};

// arn:aws:kinesisvideo:<region>:<account>:stream/<name>/<creation epoch ms>
std::string make_stream_arn(const std::string& region, const std::string& account_id, const std::string& name,
                            std::int64_t creation_time_ms);
// Splits an ARN of that shape; false when it is not one (region/account are not checked).
bool parse_stream_arn(const std::string& arn, std::string& name, std::int64_t& creation_time_ms);

}  // namespace kvsd::storage
