#include "storage/database.hpp"

#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "storage/rocksdb_stream_store.hpp"
#include "support/temp_dir.hpp"

namespace kvsd::storage {
namespace {

using kvs::errc;

constexpr std::uint64_t kPlenty = 1ULL << 40;
constexpr std::uint64_t kReserve = 1ULL << 20;

// A data dir whose free space the test sets.
struct DiskFixture {
  testing_support::TempDir dir{"kvsd-database"};
  std::shared_ptr<std::atomic<std::uint64_t>> free = std::make_shared<std::atomic<std::uint64_t>>(kPlenty);

  [[nodiscard]] std::string index() const { return (dir.path() / "index").string(); }
  [[nodiscard]] DatabaseOptions options() const {
    DatabaseOptions o;
    o.reserve_bytes = kReserve;
    o.free_bytes = [f = free](const std::filesystem::path&) -> kvs::Result<std::uint64_t> { return f->load(); };
    return o;
  }
};

kvs::Result<kvs::StreamInfo> create(RocksDbStreamStore& store, const std::string& name) {
  kvs::CreateStreamInput in;
  in.stream_name = name;
  in.data_retention_in_hours = 1;
  return store.create(in);
}

TEST(Database, OpensReadWriteWithSpaceToSpare) {
  DiskFixture d;
  auto db = Database::open(d.index(), d.options());
  EXPECT_FALSE(db->read_only());
  EXPECT_FALSE(db->refusing_writes());
  EXPECT_FALSE(db->refusal().has_value());
  EXPECT_TRUE(db->admit_writes().has_value());
}

TEST(Database, CannotCreateAnIndexWithoutTheReserve) {
  DiskFixture d;
  d.free->store(kReserve - 1);
  EXPECT_THROW(Database::open(d.index(), d.options()), std::runtime_error);
}

TEST(Database, OpensReadOnlyBelowTheReserveAndRefusesWrites) {
  DiskFixture d;
  {
    auto db = Database::open(d.index(), d.options());
    RocksDbStreamStore store(db, {});
    ASSERT_TRUE(create(store, "kept").has_value());
  }
  // Less than the reserve plus what the open would write.
  d.free->store(kReserve);
  auto db = Database::open(d.index(), d.options());
  EXPECT_TRUE(db->read_only());
  EXPECT_TRUE(db->refusing_writes());
  const auto why = db->refusal();
  ASSERT_TRUE(why.has_value());
  EXPECT_EQ(why->reason, DegradedReason::disk_full);
  EXPECT_EQ(std::string(degraded_reason_name(why->reason)), "disk_full");
  EXPECT_EQ(why->free_bytes, kReserve);
  EXPECT_GT(why->needed_bytes, kReserve);  // the reserve plus the index's log and MANIFEST
  EXPECT_EQ(why->needed_bytes, db->resume_bytes());

  RocksDbStreamStore store(db, {});
  EXPECT_EQ(store.describe({"kept", {}}).value().stream_name, "kept");
  EXPECT_EQ(store.list({}).value().streams.size(), 1u);
  const auto refused = create(store, "new");
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, errc::service_unavailable);
  EXPECT_EQ(refused.error().message.find(d.dir.path().string()), std::string::npos) << refused.error().message;
  EXPECT_EQ(store.tag({"kept", {}}, {{"k", "v"}}).error().code, errc::service_unavailable);
  EXPECT_EQ(store.remove({"kept", {}}, "").error().code, errc::service_unavailable);
  EXPECT_EQ(store.describe({"kept", {}}).value().tags.size(), 0u);
}

TEST(Database, ReadOnlyOpenOfAnOlderDataDirReadsMissingFamiliesAsEmpty) {
  DiskFixture d;
  {
    rocksdb::DBOptions dbo;
    dbo.create_if_missing = true;
    dbo.create_missing_column_families = true;
    std::vector<rocksdb::ColumnFamilyDescriptor> families{
        {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()},
        {"streams", rocksdb::ColumnFamilyOptions()}};
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(dbo, d.index(), families, &handles, &raw).ok());
    for (auto* h : handles) raw->DestroyColumnFamilyHandle(h);
    delete raw;
  }
  d.free->store(0);
  auto db = Database::open(d.index(), d.options());
  ASSERT_TRUE(db->read_only());
  RocksDbStreamStore store(db, {});
  EXPECT_TRUE(store.list({}).value().streams.empty());
  EXPECT_TRUE(store.list_deleting().value().empty());  // deleted_streams is missing: empty
}

TEST(Database, AnIndexInUseFailsToOpenRatherThanDegrade) {
  DiskFixture d;
  auto first = Database::open(d.index(), d.options());
  EXPECT_THROW(Database::open(d.index(), d.options()), std::runtime_error);
  EXPECT_FALSE(first->refusing_writes());
}

TEST(Database, AWriteThatWouldFindLessThanTheReserveRefusesFromThenOn) {
  DiskFixture d;
  auto db = Database::open(d.index(), d.options());
  RocksDbStreamStore store(db, {});
  ASSERT_TRUE(create(store, "a").has_value());
  d.free->store(kReserve - 1);
  EXPECT_EQ(create(store, "b").error().code, errc::service_unavailable);
  EXPECT_TRUE(db->refusing_writes());
  EXPECT_FALSE(db->read_only());
  // Space alone does not end it: StorageHealth does.
  d.free->store(kPlenty);
  EXPECT_EQ(create(store, "c").error().code, errc::service_unavailable);
  ASSERT_TRUE(db->restore_read_write().has_value());
  EXPECT_EQ(create(store, "c").error().code, errc::service_unavailable);
  db->allow_writes();
  EXPECT_TRUE(create(store, "c").has_value());
}

TEST(Database, RestoreReadWriteReopensAReadOnlyIndex) {
  DiskFixture d;
  {
    auto db = Database::open(d.index(), d.options());
    RocksDbStreamStore store(db, {});
    ASSERT_TRUE(create(store, "before").has_value());
  }
  d.free->store(0);
  auto db = Database::open(d.index(), d.options());
  RocksDbStreamStore store(db, {});
  ASSERT_TRUE(db->read_only());
  d.free->store(kPlenty);
  ASSERT_TRUE(db->restore_read_write().has_value());
  EXPECT_FALSE(db->read_only());
  EXPECT_TRUE(db->refusing_writes());  // until allow_writes()
  db->allow_writes();
  EXPECT_FALSE(db->refusing_writes());
  ASSERT_TRUE(create(store, "after").has_value());
  EXPECT_EQ(store.list({}).value().streams.size(), 2u);
}

TEST(Database, RestoreReadWriteWaitsForPinsToEnd) {
  DiskFixture d;
  { auto db = Database::open(d.index(), d.options()); }
  d.free->store(0);
  auto db = Database::open(d.index(), d.options());
  ASSERT_TRUE(db->read_only());
  d.free->store(kPlenty);
  std::promise<void> pinned;
  std::promise<void> release;
  std::thread reader([&] {
    const auto pin = db->pin();
    const auto nested = db->pin();  // pins nest
    pinned.set_value();
    release.get_future().wait();
  });
  pinned.get_future().wait();
  auto restored = std::async(std::launch::async, [&] { return db->restore_read_write(); });
  EXPECT_EQ(restored.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout);
  EXPECT_TRUE(db->read_only());
  release.set_value();
  reader.join();
  EXPECT_TRUE(restored.get().has_value());
  EXPECT_FALSE(db->read_only());
}

TEST(Database, DegradedErrorsNameNoPath) {
  for (const auto reason : {DegradedReason::disk_full, DegradedReason::io_error}) {
    const auto e = storage_degraded_error(reason);
    EXPECT_EQ(e.code, errc::service_unavailable);
    EXPECT_EQ(e.message.find('/'), std::string::npos) << e.message;
  }
}

}  // namespace
}  // namespace kvsd::storage
