#pragma once
// Test helpers for the fragment store: a data dir with the Database and a RocksDbFragmentStore
// that can be closed and reopened, fragment builders and a synchronous persist.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <future>
#include <memory>
#include <thread>
#include <vector>

#include "storage/database.hpp"
#include "storage/rocksdb_fragment_store.hpp"
#include "support/temp_dir.hpp"

namespace kvsd::storage::test {

inline std::shared_ptr<const std::vector<std::uint8_t>> make_header(std::uint8_t tag, std::size_t size = 300) {
  auto h = std::make_shared<std::vector<std::uint8_t>>(size);
  for (std::size_t i = 0; i < size; ++i) (*h)[i] = static_cast<std::uint8_t>(tag + i * 7);
  return h;
}

inline std::vector<std::uint8_t> make_bytes(std::uint64_t seed, std::size_t size) {
  std::vector<std::uint8_t> out(size);
  std::uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 1;
  for (auto& b : out) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    b = static_cast<std::uint8_t>(x);
  }
  return out;
}

struct Harness {
  testing_support::TempDir dir{"kvsd-fragments"};
  std::shared_ptr<Database> db;
  std::unique_ptr<RocksDbFragmentStore> store;
  FragmentStoreOptions options;
  DatabaseOptions db_options;  // e.g. a fake free_bytes for degraded mode
  std::shared_ptr<std::atomic<std::int64_t>> now_ms = std::make_shared<std::atomic<std::int64_t>>(1700000000000);

  Harness() {
    options.blobs_dir = dir.path() / "blobs";
    options.min_free_bytes = 0;
    auto clock = now_ms;
    options.now_ms = [clock] { return clock->load(); };
  }
  void open() {
    close();
    db = Database::open((dir.path() / "index").string(), db_options);
    store = std::make_unique<RocksDbFragmentStore>(db, options);
  }
  void close() {
    store.reset();
    db.reset();
  }

  kvs::IngestFragment fragment(std::uint64_t stream_id, std::int64_t producer_ms, std::int64_t server_ms,
                               std::size_t size = 1000,
                               std::shared_ptr<const std::vector<std::uint8_t>> header = make_header(1)) {
    kvs::IngestFragment f;
    f.stream_id = stream_id;
    f.fragment_number = store->next_fragment_number();
    f.header = std::move(header);
    f.cluster_bytes = make_bytes(static_cast<std::uint64_t>(producer_ms) ^ (stream_id << 40), size);
    f.cluster_timecode = static_cast<std::uint64_t>(producer_ms);
    f.producer_timestamp_ms = producer_ms;
    f.server_timestamp_ms = server_ms;
    f.duration_ms = 2000;
    f.tracks = {{1, 60, 1}, {2, 94, 94}};
    f.metadata = {{"k", "v" + std::to_string(producer_ms)}};
    return f;
  }

  kvs::Result<kvs::PersistOutcome> persist(kvs::IngestFragment f) {
    std::promise<kvs::Result<kvs::PersistOutcome>> p;
    auto fut = p.get_future();
    store->persist_async(std::move(f), [&p](kvs::Result<kvs::PersistOutcome> r) { p.set_value(std::move(r)); });
    return fut.get();
  }

  // Waits (up to about 5 s) until `count` segment files hold at least `min_bytes` each: the
  // committer has appended that many streams' fragments.
  void wait_for_segment_files(int count, std::uintmax_t min_bytes) const {
    for (int tries = 0; tries < 500; ++tries) {
      int present = 0;
      for (const auto& e : std::filesystem::recursive_directory_iterator(options.blobs_dir))
        if (e.is_regular_file() && e.file_size() >= min_bytes) ++present;
      if (present >= count) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  std::vector<kvs::FragmentRecord> list_all(std::uint64_t stream_id,
                                            kvs::TimestampKind kind = kvs::TimestampKind::server) {
    kvs::FragmentQuery q;
    q.stream_id = stream_id;
    q.kind = kind;
    q.from_ms = INT64_MIN;
    q.to_ms = INT64_MAX;
    q.limit = 10000;
    auto page = store->list(q);
    EXPECT_TRUE(page.has_value());
    return page ? page->fragments : std::vector<kvs::FragmentRecord>{};
  }
};

// Persists one fragment of `stream_id` and holds the store's sync stage inside its callback until
// release() (or destruction), so the fragments persisted meanwhile queue up behind it.
class SyncStageHold {
 public:
  SyncStageHold(Harness& h, std::uint64_t stream_id) {
    auto entered = std::make_shared<std::promise<void>>();
    auto entered_future = entered->get_future();
    h.store->persist_async(h.fragment(stream_id, 1, 1),
                           [entered, released = release_.get_future().share()](kvs::Result<kvs::PersistOutcome>) {
                             entered->set_value();
                             released.wait();
                           });
    entered_future.wait();
  }
  ~SyncStageHold() { release(); }
  SyncStageHold(const SyncStageHold&) = delete;
  SyncStageHold& operator=(const SyncStageHold&) = delete;

  void release() {
    if (released_) return;
    released_ = true;
    release_.set_value();
  }

 private:
  std::promise<void> release_;
  bool released_ = false;
};

}  // namespace kvsd::storage::test
