#pragma once
// RocksDbStreamStore: the StreamStore on the shared Database (family "streams", key = stream
// name, value = proto StreamRecord). Every write uses sync=true, so a returned success survives
// a crash. Read-modify-write operations are serialised by one mutex.
//
// Every stream gets a stream_id at create (a counter in the meta family, written in the same
// batch), never reused: a stream deleted and created again under its name gets a new one.
// Deleting moves the record, status DELETING, to the "deleted_streams" family (key = stream_id
// BE), where it is invisible to every StreamStore call and the name is free again; the retention
// sweeper removes the stream's data, then purge_deleted() drops the record.
//
// Degraded mode (Database): every write fails with service_unavailable (Database::admit_writes)
// before anything is written; reads keep working.

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "kvs/stream_store.hpp"
#include "storage/database.hpp"

namespace kvsd::storage {

struct StreamStoreOptions {
  std::string region = "us-west-2";
  std::string account_id = "123456789012";
  // The clock (epoch milliseconds); tests may replace it.
  std::function<std::int64_t()> now_ms;
};

class RocksDbStreamStore final : public kvs::StreamStore {
 public:
  // Uses `db` (see Database::open). Records of an older version are upgraded at construction:
  // those without a stream_id get one, DELETING ones move to deleted_streams. Throws
  // std::runtime_error when that fails.
  RocksDbStreamStore(std::shared_ptr<Database> db, StreamStoreOptions options);
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

  // Blocking. Deleted streams whose data is not purged yet (status DELETING, with stream_id),
  // in stream_id order.
  kvs::Result<std::vector<kvs::StreamInfo>> list_deleting();
  // Blocking. Drops the DELETING record of `stream_id` (call once its data is gone). Succeeds
  // when there is no such record.
  kvs::Status purge_deleted(std::uint64_t stream_id);

 private:
  kvs::Result<std::uint64_t> upgrade_records();

  std::shared_ptr<Database> db_;
  StreamStoreOptions options_;
  std::mutex mutex_;  // serialises read-modify-write
};

// arn:aws:kinesisvideo:<region>:<account>:stream/<name>/<creation epoch ms>
std::string make_stream_arn(const std::string& region, const std::string& account_id, const std::string& name,
                            std::int64_t creation_time_ms);
// Splits an ARN of that shape; false when it is not one (region/account are not checked).
bool parse_stream_arn(const std::string& arn, std::string& name, std::int64_t& creation_time_ms);

}  // namespace kvsd::storage
