#include "storage/storage_health.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <memory>

#include "storage/fragment_store_harness.hpp"
#include "storage/retention_sweeper.hpp"
#include "storage/rocksdb_stream_store.hpp"
#include "storage/segment_file.hpp"

namespace kvsd::storage::test {
namespace {

using kvs::errc;

constexpr std::uint64_t kPlenty = 1ULL << 40;
constexpr std::uint64_t kReserve = 1ULL << 20;

// The harness with a disk whose free space the test sets.
struct DiskHarness : Harness {
  std::shared_ptr<std::atomic<std::uint64_t>> free = std::make_shared<std::atomic<std::uint64_t>>(kPlenty);
  DiskHarness() {
    db_options.reserve_bytes = kReserve;
    db_options.free_bytes = [f = free](const std::filesystem::path&) -> kvs::Result<std::uint64_t> {
      return f->load();
    };
  }
  [[nodiscard]] std::size_t segment_files() const {
    std::size_t n = 0;
    for (const auto& e : std::filesystem::recursive_directory_iterator(options.blobs_dir))
      if (e.is_regular_file()) ++n;
    return n;
  }
};

TEST(StorageHealth, ReportsFreeSpaceWhileWritable) {
  DiskHarness h;
  h.open();
  StorageHealth health(h.db, *h.store);
  const auto r = health.check();
  EXPECT_TRUE(r.writable);
  EXPECT_FALSE(r.resumed);
  EXPECT_FALSE(r.refusal.has_value());
  EXPECT_EQ(r.free_bytes, kPlenty);
}

TEST(StorageHealth, DiskFillingUpRefusesEveryWriteUntilSpaceIsBack) {
  DiskHarness h;
  h.open();
  RocksDbStreamStore streams(h.db, {});
  StorageHealth health(h.db, *h.store);
  ASSERT_TRUE(h.persist(h.fragment(1, 100, 100)).has_value());
  const auto files = h.segment_files();

  h.free->store(kReserve / 2);
  auto r = health.check();  // notices before any write does
  EXPECT_FALSE(r.writable);
  ASSERT_TRUE(r.refusal.has_value());
  EXPECT_EQ(r.refusal->reason, DegradedReason::disk_full);
  EXPECT_EQ(r.free_bytes, kReserve / 2);
  EXPECT_EQ(r.needed_bytes, h.db->resume_bytes());
  EXPECT_GE(r.needed_bytes, kReserve);

  const auto refused = h.persist(h.fragment(2, 100, 100));  // a new stream: would make a segment
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, errc::service_unavailable);
  EXPECT_EQ(h.segment_files(), files);
  kvs::CreateStreamInput in;
  in.stream_name = "s";
  EXPECT_EQ(streams.create(in).error().code, errc::service_unavailable);
  RetentionSweeper sweeper(h.db, *h.store, streams);
  const auto swept = sweeper.run_once(INT64_MAX / 2);
  ASSERT_TRUE(swept.has_value());
  EXPECT_EQ(swept.value().segments_deleted, 0u);
  EXPECT_EQ(h.list_all(1).size(), 1u);  // reads go on

  h.free->store(r.needed_bytes - 1);
  EXPECT_FALSE(health.check().writable);
  h.free->store(kPlenty);
  r = health.check();
  EXPECT_TRUE(r.writable);
  EXPECT_TRUE(r.resumed);
  EXPECT_FALSE(r.recovery.has_value());  // nothing was deferred
  EXPECT_TRUE(h.persist(h.fragment(2, 100, 100)).has_value());
  EXPECT_TRUE(streams.create(in).has_value());
  EXPECT_FALSE(health.check().resumed);
}

TEST(StorageHealth, StartOnAFullDiskDefersIndexFixesUntilWritesResume) {
  DiskHarness h;
  h.open();
  const auto kept = h.persist(h.fragment(1, 100, 100, 500)).value().record;
  const auto lost = h.persist(h.fragment(2, 100, 100, 500)).value().record;
  h.close();
  std::filesystem::remove(segment_path(h.options.blobs_dir, 2, lost.segment_id));  // should not happen
  {
    std::ofstream out(segment_path(h.options.blobs_dir, 1, kept.segment_id), std::ios::binary | std::ios::app);
    out << std::string(77, 'x');  // a torn tail: never acknowledged
  }

  h.free->store(0);
  h.open();
  ASSERT_TRUE(h.db->read_only());
  const auto& at_open = h.store->recovery_report();
  EXPECT_EQ(at_open.torn_tails_truncated, 1u);  // file fixes are made read-only too
  EXPECT_EQ(std::filesystem::file_size(segment_path(h.options.blobs_dir, 1, kept.segment_id)), 500u);
  EXPECT_EQ(at_open.missing_segments, 1u);
  EXPECT_GT(at_open.index_fixes_deferred, 0u);
  EXPECT_FALSE(at_open.clean());
  EXPECT_EQ(h.list_all(2).size(), 1u);  // its index entry stays until writes resume
  EXPECT_FALSE(h.store->read_cluster(lost).has_value());
  EXPECT_EQ(h.persist(h.fragment(1, 200, 200)).error().code, errc::service_unavailable);

  auto health = std::make_unique<StorageHealth>(h.db, *h.store);
  EXPECT_FALSE(health->check().writable);
  h.free->store(kPlenty);
  const auto r = health->check();
  EXPECT_TRUE(r.resumed);
  EXPECT_FALSE(h.db->read_only());
  ASSERT_TRUE(r.recovery.has_value());
  EXPECT_EQ(r.recovery->fragments_dropped, 1u);
  EXPECT_EQ(r.recovery->index_fixes_deferred, 0u);
  EXPECT_TRUE(h.list_all(2).empty());
  EXPECT_EQ(h.store->read_cluster(kept).value(), make_bytes(100 ^ (1ULL << 40), 500));
  ASSERT_TRUE(h.persist(h.fragment(1, 200, 200)).has_value());
  EXPECT_EQ(h.list_all(1).size(), 2u);

  // And the next start finds nothing to fix.
  health.reset();  // it shares the Database
  h.open();
  EXPECT_TRUE(h.store->recovery_report().clean());
  EXPECT_FALSE(h.db->read_only());
}

}  // namespace
}  // namespace kvsd::storage::test
