// Streaming appends through RocksDbFragmentStore lanes: parts staged with stage_async() before a
// fragment's persist_async(), lane-owned segments, segment hand-back at close_lane(), staged
// replays, and the failures a staged fragment can meet (wrong staged_bytes, dropped stream,
// retired segment, free-space floor, recovery of unindexed staged bytes).

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "storage/fragment_store_harness.hpp"
#include "storage/rocksdb_fragment_store.hpp"

namespace kvsd::storage::test {
namespace {

using Bytes = std::vector<std::uint8_t>;

constexpr std::uint64_t kStream = 5;
constexpr std::uint64_t kBarrierStream = 999;  // used only to wait for the committer

Bytes concat(std::initializer_list<const Bytes*> parts) {
  Bytes out;
  for (const auto* p : parts) out.insert(out.end(), p->begin(), p->end());
  return out;
}

Bytes slice(const Bytes& b, std::size_t from, std::size_t to) {
  return Bytes(b.begin() + static_cast<std::ptrdiff_t>(from), b.begin() + static_cast<std::ptrdiff_t>(to));
}

class FragmentLanesTest : public ::testing::Test {
 protected:
  void SetUp() override { h_.open(); }

  // Stages `bytes` as a part of two ranges of one shared buffer (as the ingest path cuts parts
  // out of its read chunks), so the segment writes several ranges in one go.
  void stage(std::uint64_t stream, std::uint64_t lane, Bytes bytes) {
    auto owner = std::make_shared<const Bytes>(std::move(bytes));
    const std::span<const std::uint8_t> all(*owner);
    const auto half = all.size() / 2;
    h_.store->stage_async(
        stream, lane,
        kvs::StagedPart{kvs::SharedBytes{owner, all.first(half)}, kvs::SharedBytes{owner, all.subspan(half)}});
  }

  // A fragment of `stream` whose whole cluster is `cluster`: the first `staged` bytes are staged
  // on `lane` in parts cut at `cuts` (offsets into the cluster, increasing, below `staged`), the
  // rest is the persist's tail.
  kvs::IngestFragment staged_fragment(std::uint64_t stream, std::uint64_t lane, std::int64_t producer_ms,
                                      const Bytes& cluster, std::size_t staged, const std::vector<std::size_t>& cuts) {
    std::size_t from = 0;
    for (const auto cut : cuts) {
      stage(stream, lane, slice(cluster, from, cut));
      from = cut;
    }
    if (from < staged) stage(stream, lane, slice(cluster, from, staged));
    return tail_fragment(stream, lane, producer_ms, cluster, staged);
  }

  // The persist of a fragment of `stream` whose first `staged` bytes of `cluster` were staged on `lane`.
  kvs::IngestFragment tail_fragment(std::uint64_t stream, std::uint64_t lane, std::int64_t producer_ms,
                                    const Bytes& cluster, std::size_t staged) {
    auto f = h_.fragment(stream, producer_ms, producer_ms + 100000);
    f.lane = lane;
    f.staged_bytes = staged;
    f.cluster_bytes = slice(cluster, staged, cluster.size());
    return f;
  }

  // Persists a whole fragment on a stream of its own and waits for it: every part and lane
  // operation queued before it has been through the committer when this returns (the committer
  // takes its queue in order).
  void barrier() {
    auto r = h_.persist(h_.fragment(kBarrierStream, barrier_ms_, barrier_ms_, 10));
    barrier_ms_ += 1000;
    ASSERT_TRUE(r.has_value()) << r.error().message;
  }

  // The stored copy of `record`'s fragment, read back through the index.
  Bytes read_back(const kvs::FragmentRecord& record) {
    auto got = h_.store->get(record.stream_id, record.fragment_number);
    EXPECT_TRUE(got.has_value() && got.value().has_value()) << "no index entry for " << record.fragment_number;
    if (!got || !got.value()) return {};
    auto bytes = h_.store->read_cluster(*got.value());
    EXPECT_TRUE(bytes.has_value()) << bytes.error().message;
    return bytes ? bytes.value() : Bytes{};
  }

  // Persists `f` and expects it to fail as internal, with no index entry.
  void expect_fails_unindexed(kvs::IngestFragment f, const std::string& what) {
    const auto number = f.fragment_number;
    const auto stream = f.stream_id;
    auto r = h_.persist(std::move(f));
    ASSERT_FALSE(r.has_value()) << what;
    EXPECT_EQ(r.error().code, kvs::errc::internal) << what;
    EXPECT_FALSE(indexed(stream, number)) << what;
  }

  bool indexed(std::uint64_t stream, const std::string& number) {
    auto got = h_.store->get(stream, number);
    EXPECT_TRUE(got.has_value());
    return got && got.value().has_value();
  }

  Harness h_;
  std::int64_t barrier_ms_ = 1;
};

TEST_F(FragmentLanesTest, StagedPartsAndTailFormOneContiguousFragment) {
  // A whole fragment first, so the staged one starts at a non-zero offset of the same segment.
  auto first = h_.persist(h_.fragment(kStream, 1000, 2000, 777));
  ASSERT_TRUE(first.has_value()) << first.error().message;

  const auto lane = h_.store->open_lane();
  ASSERT_NE(lane, 0u);
  const Bytes cluster = make_bytes(42, 1000);
  auto f = staged_fragment(kStream, lane, 3000, cluster, 900, {100, 450});  // parts 100, 350, 450; tail 100
  const auto number = f.fragment_number;
  auto r = h_.persist(std::move(f));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_FALSE(r->duplicate);
  EXPECT_EQ(r->record.fragment_number, number);
  EXPECT_EQ(r->record.segment_id, first->record.segment_id);
  EXPECT_EQ(r->record.offset, first->record.offset + first->record.size_bytes);
  EXPECT_EQ(r->record.size_bytes, cluster.size());
  EXPECT_EQ(read_back(r->record), cluster);
  // The first fragment is untouched.
  EXPECT_EQ(read_back(first->record), make_bytes(static_cast<std::uint64_t>(1000) ^ (kStream << 40), 777));

  // The lane's next fragment follows in the same segment.
  const Bytes second = make_bytes(43, 500);
  auto r2 = h_.persist(staged_fragment(kStream, lane, 5000, second, 499, {1, 2}));
  ASSERT_TRUE(r2.has_value()) << r2.error().message;
  EXPECT_EQ(r2->record.segment_id, r->record.segment_id);
  EXPECT_EQ(r2->record.offset, r->record.offset + r->record.size_bytes);
  EXPECT_EQ(read_back(r2->record), second);
  h_.store->close_lane(kStream, lane);
}

TEST_F(FragmentLanesTest, InterleavedLanesOfOneStreamKeepTheirPartsContiguous) {
  const auto lane_a = h_.store->open_lane();
  const auto lane_b = h_.store->open_lane();
  ASSERT_NE(lane_a, lane_b);
  const Bytes a = make_bytes(1, 3000);
  const Bytes b = make_bytes(2, 2000);
  stage(kStream, lane_a, slice(a, 0, 1000));     // A1
  stage(kStream, lane_b, slice(b, 0, 700));      // B1
  stage(kStream, lane_a, slice(a, 1000, 2500));  // A2
  stage(kStream, lane_b, slice(b, 700, 1900));   // B2
  auto fa = h_.fragment(kStream, 10000, 20000);
  fa.lane = lane_a;
  fa.staged_bytes = 2500;
  fa.cluster_bytes = slice(a, 2500, a.size());
  auto fb = h_.fragment(kStream, 12000, 22000);
  fb.lane = lane_b;
  fb.staged_bytes = 1900;
  fb.cluster_bytes = slice(b, 1900, b.size());
  auto ra = h_.persist(std::move(fa));
  auto rb = h_.persist(std::move(fb));
  ASSERT_TRUE(ra.has_value()) << ra.error().message;
  ASSERT_TRUE(rb.has_value()) << rb.error().message;
  EXPECT_NE(ra->record.segment_id, rb->record.segment_id);
  EXPECT_EQ(ra->record.size_bytes, a.size());
  EXPECT_EQ(rb->record.size_bytes, b.size());
  EXPECT_EQ(read_back(ra->record), a);
  EXPECT_EQ(read_back(rb->record), b);
  EXPECT_EQ(h_.list_all(kStream).size(), 2u);
  h_.store->close_lane(kStream, lane_a);
  h_.store->close_lane(kStream, lane_b);
}

TEST_F(FragmentLanesTest, SequentialUploadsFillOneSegment) {
  std::vector<kvs::FragmentRecord> records;
  std::vector<Bytes> clusters;
  std::int64_t ms = 1000;
  for (int upload = 0; upload < 2; ++upload) {
    const auto lane = h_.store->open_lane();
    for (int i = 0; i < 2; ++i) {
      clusters.push_back(make_bytes(static_cast<std::uint64_t>(ms), 600));
      auto r = h_.persist(staged_fragment(kStream, lane, ms, clusters.back(), 400, {200}));
      ASSERT_TRUE(r.has_value()) << r.error().message;
      records.push_back(r->record);
      ms += 2000;
    }
    h_.store->close_lane(kStream, lane);
  }
  ASSERT_EQ(records.size(), 4u);
  for (std::size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(records[i].segment_id, records[0].segment_id) << "fragment " << i;
    EXPECT_EQ(records[i].offset, i * 600) << "fragment " << i;
    EXPECT_EQ(read_back(records[i]), clusters[i]) << "fragment " << i;
  }
  // A whole fragment after the uploads goes to the same (handed back) segment too.
  auto whole = h_.persist(h_.fragment(kStream, ms, ms, 100));
  ASSERT_TRUE(whole.has_value()) << whole.error().message;
  EXPECT_EQ(whole->record.segment_id, records[0].segment_id);
  EXPECT_EQ(whole->record.offset, 4u * 600);
}

TEST_F(FragmentLanesTest, WrongStagedBytesFailsWithoutAnIndexEntryAndTheLaneGoesOn) {
  const auto lane = h_.store->open_lane();
  for (const std::int64_t extra : {+1, -1}) {  // claims one byte more, then one byte less
    const Bytes cluster = make_bytes(7, 800);
    auto f = staged_fragment(kStream, lane, 1000 + extra * 100, cluster, 500, {250});
    f.staged_bytes = static_cast<std::uint64_t>(500 + extra);
    expect_fails_unindexed(std::move(f), "staged_bytes off by " + std::to_string(extra));
  }
  EXPECT_TRUE(h_.list_all(kStream).empty());
  EXPECT_FALSE(h_.store->find_by_producer_timestamp(kStream, 1100).value().has_value());

  // The lane's next fragment starts afresh and is stored whole.
  const Bytes next = make_bytes(8, 900);
  auto r = h_.persist(staged_fragment(kStream, lane, 5000, next, 600, {100, 300}));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->record.size_bytes, next.size());
  EXPECT_EQ(read_back(r->record), next);
  EXPECT_EQ(h_.list_all(kStream).size(), 1u);
  h_.store->close_lane(kStream, lane);
}

TEST_F(FragmentLanesTest, StagedButNeverPersistedLeavesNoEntryAndSurvivesRecovery) {
  std::vector<std::pair<kvs::FragmentRecord, Bytes>> persisted;
  // Upload 1: one fragment, then the parts of one that never completes (the connection died).
  const auto lane1 = h_.store->open_lane();
  const Bytes c1 = make_bytes(11, 700);
  auto r1 = h_.persist(staged_fragment(kStream, lane1, 1000, c1, 500, {}));
  ASSERT_TRUE(r1.has_value()) << r1.error().message;
  persisted.emplace_back(r1->record, c1);
  stage(kStream, lane1, make_bytes(12, 300));  // never persisted
  h_.store->close_lane(kStream, lane1);

  // Upload 2 fills the same segment after the unindexed bytes.
  const auto lane2 = h_.store->open_lane();
  for (std::int64_t ms : {3000, 5000}) {
    const Bytes c = make_bytes(static_cast<std::uint64_t>(ms), 400);
    auto r = h_.persist(staged_fragment(kStream, lane2, ms, c, 300, {150}));
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->record.segment_id, r1->record.segment_id);
    persisted.emplace_back(r->record, c);
  }
  h_.store->close_lane(kStream, lane2);
  EXPECT_EQ(persisted[1].first.offset, 700u + 300u);  // after the never-persisted parts

  // Upload 3: only parts, at the end of the segment, never persisted.
  const auto lane3 = h_.store->open_lane();
  stage(kStream, lane3, make_bytes(13, 250));
  h_.store->close_lane(kStream, lane3);
  barrier();

  const auto all = h_.list_all(kStream);
  ASSERT_EQ(all.size(), persisted.size());
  for (std::size_t i = 0; i < persisted.size(); ++i) {
    EXPECT_EQ(all[i].fragment_number, persisted[i].first.fragment_number);
    EXPECT_EQ(read_back(persisted[i].first), persisted[i].second) << "fragment " << i;
  }

  h_.open();  // restart: recovery meets the unindexed bytes
  EXPECT_EQ(h_.store->recovery_report().torn_tails_truncated, 1u);
  EXPECT_EQ(h_.store->recovery_report().torn_bytes_truncated, 250u);
  EXPECT_EQ(h_.store->recovery_report().fragments_dropped, 0u);
  const auto after = h_.list_all(kStream);
  ASSERT_EQ(after.size(), persisted.size());
  for (std::size_t i = 0; i < persisted.size(); ++i) {
    EXPECT_EQ(read_back(persisted[i].first), persisted[i].second) << "fragment " << i << " after reopen";
  }
  // Streaming appends work after the restart.
  const auto lane4 = h_.store->open_lane();
  const Bytes c4 = make_bytes(14, 500);
  auto r4 = h_.persist(staged_fragment(kStream, lane4, 9000, c4, 200, {100}));
  ASSERT_TRUE(r4.has_value()) << r4.error().message;
  EXPECT_EQ(read_back(r4->record), c4);
  h_.store->close_lane(kStream, lane4);
}

TEST_F(FragmentLanesTest, StagedReplayExtendsOnlyALongerCopyOfTheStoredBytes) {
  auto whole = h_.fragment(kStream, 40000, 50000, 1000);
  const Bytes stored = whole.cluster_bytes;
  auto first = h_.persist(std::move(whole));
  ASSERT_TRUE(first.has_value()) << first.error().message;
  const auto lane = h_.store->open_lane();

  // Copies that must be duplicates: shorter, the same length, longer but differing in the
  // staged bytes, longer but differing in the tail.
  struct Case {
    const char* what;
    Bytes cluster;
    std::size_t staged;
  };
  const Bytes more = make_bytes(99, 300);
  std::vector<Case> duplicates;
  duplicates.push_back({"shorter", slice(stored, 0, 900), 600});
  duplicates.push_back({"same length", stored, 700});
  Bytes differs_staged = concat({&stored, &more});
  differs_staged[10] ^= 0xFF;
  duplicates.push_back({"differs in staged bytes", differs_staged, 500});
  Bytes differs_tail = concat({&stored, &more});
  differs_tail[950] ^= 0xFF;
  duplicates.push_back({"differs in the tail", differs_tail, 500});
  std::int64_t arrival = 60000;
  for (const auto& c : duplicates) {
    auto f = staged_fragment(kStream, lane, 40000, c.cluster, c.staged, {c.staged / 2});
    f.server_timestamp_ms = arrival++;
    auto r = h_.persist(std::move(f));
    ASSERT_TRUE(r.has_value()) << c.what << ": " << r.error().message;
    EXPECT_TRUE(r->duplicate) << c.what;
    EXPECT_EQ(r->record.fragment_number, first->record.fragment_number) << c.what;
    EXPECT_EQ(r->record.size_bytes, stored.size()) << c.what;
    EXPECT_EQ(read_back(first->record), stored) << c.what;
  }

  // A longer copy starting with every stored byte replaces it, whether the staged parts end
  // inside the stored bytes (600 of 1000) or past them (1320 of 1300, the first replacement).
  Bytes longer = concat({&stored, &more});
  for (const std::size_t staged : {std::size_t{600}, std::size_t{1320}}) {
    auto f = staged_fragment(kStream, lane, 40000, longer, staged, {staged / 3});
    f.server_timestamp_ms = arrival++;
    auto r = h_.persist(std::move(f));
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_FALSE(r->duplicate) << "staged " << staged;
    EXPECT_EQ(r->record.fragment_number, first->record.fragment_number);
    EXPECT_EQ(r->record.server_timestamp_ms, 50000);
    EXPECT_EQ(r->record.size_bytes, longer.size());
    EXPECT_EQ(read_back(r->record), longer) << "staged " << staged;
    const auto all = h_.list_all(kStream);
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0].size_bytes, longer.size());
    // The next round extends the copy just stored.
    const Bytes extra = make_bytes(static_cast<std::uint64_t>(staged), 50);
    longer = concat({&longer, &extra});
  }
  h_.store->close_lane(kStream, lane);
}

TEST_F(FragmentLanesTest, DropStreamFailsAStagedFragment) {
  const auto lane = h_.store->open_lane();
  const Bytes c = make_bytes(21, 1000);
  stage(kStream, lane, slice(c, 0, 400));
  barrier();  // the part is in the lane's segment
  h_.store->drop_stream(kStream);
  stage(kStream, lane, slice(c, 400, 800));
  auto f = h_.fragment(kStream, 1000, 2000);
  f.lane = lane;
  f.staged_bytes = 800;
  f.cluster_bytes = slice(c, 800, c.size());
  const auto number = f.fragment_number;
  auto r = h_.persist(std::move(f));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, kvs::errc::resource_not_found);
  EXPECT_FALSE(indexed(kStream, number));

  // The lane's next fragment of the dropped stream fails the same way.
  auto again = h_.persist(staged_fragment(kStream, lane, 3000, make_bytes(22, 300), 100, {}));
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, kvs::errc::resource_not_found);
  EXPECT_TRUE(h_.list_all(kStream).empty());
  h_.store->close_lane(kStream, lane);
  barrier();
}

TEST_F(FragmentLanesTest, RetiredSegmentFailsTheFragmentStagedInItAndTheLaneMovesOn) {
  const auto lane = h_.store->open_lane();
  const Bytes c0 = make_bytes(30, 500);
  auto r0 = h_.persist(staged_fragment(kStream, lane, 1000, c0, 300, {}));
  ASSERT_TRUE(r0.has_value()) << r0.error().message;
  const auto seg0 = r0->record.segment_id;

  // Retired after the fragment's parts, before its tail.
  const Bytes c1 = make_bytes(31, 500);
  stage(kStream, lane, slice(c1, 0, 300));
  barrier();
  h_.store->retire_segment(kStream, seg0);
  expect_fails_unindexed(tail_fragment(kStream, lane, 3000, c1, 300), "retired before the tail");

  // The next fragment goes to a new segment.
  const Bytes c2 = make_bytes(32, 500);
  auto r2 = h_.persist(staged_fragment(kStream, lane, 5000, c2, 250, {100}));
  ASSERT_TRUE(r2.has_value()) << r2.error().message;
  EXPECT_NE(r2->record.segment_id, seg0);
  EXPECT_EQ(r2->record.offset, 0u);
  EXPECT_EQ(read_back(r2->record), c2);
  const auto seg2 = r2->record.segment_id;

  // Retired between two parts of a fragment.
  const Bytes c3 = make_bytes(33, 500);
  stage(kStream, lane, slice(c3, 0, 200));
  barrier();
  h_.store->retire_segment(kStream, seg2);
  stage(kStream, lane, slice(c3, 200, 400));
  expect_fails_unindexed(tail_fragment(kStream, lane, 7000, c3, 400), "retired between two parts");

  const Bytes c4 = make_bytes(34, 500);
  auto r4 = h_.persist(staged_fragment(kStream, lane, 9000, c4, 250, {}));
  ASSERT_TRUE(r4.has_value()) << r4.error().message;
  EXPECT_NE(r4->record.segment_id, seg0);
  EXPECT_NE(r4->record.segment_id, seg2);
  EXPECT_EQ(read_back(r4->record), c4);

  // What was stored before the retirements is still there.
  EXPECT_EQ(read_back(r0->record), c0);
  EXPECT_EQ(read_back(r2->record), c2);
  EXPECT_EQ(h_.list_all(kStream).size(), 3u);
  h_.store->close_lane(kStream, lane);
}

TEST_F(FragmentLanesTest, FreeSpaceFloorFailsAStagedFragment) {
  h_.options.min_free_bytes = UINT64_MAX / 2;  // more than any disk has
  h_.open();
  const auto lane = h_.store->open_lane();
  auto f = staged_fragment(kStream, lane, 1000, make_bytes(40, 1000), 800, {400});
  const auto number = f.fragment_number;
  auto r = h_.persist(std::move(f));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, kvs::errc::internal);
  EXPECT_NE(r.error().message.find("storage full"), std::string::npos) << r.error().message;
  EXPECT_FALSE(indexed(kStream, number));
  EXPECT_TRUE(h_.list_all(kStream).empty());
  h_.store->close_lane(kStream, lane);
}

}  // namespace
}  // namespace kvsd::storage::test
