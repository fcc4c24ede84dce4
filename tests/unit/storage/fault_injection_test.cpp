// Fault injection below the fragment store (storage/fault_points.hpp): a segment write that fails
// (EIO, ENOSPC) or comes back short, a failed fdatasync, a failed directory fsync, and a failed
// index write, each at its step of the group commit. For every case: what the producer's persist
// gets (an error, or success when the step recovers by itself), that the store keeps working
// after the fault, and that after a restart every fragment whose persist succeeded is there with
// its exact bytes while no failed one is listed (nothing acknowledged is lost, nothing
// unacknowledged is claimed).

#include <gtest/gtest.h>

#include <cerrno>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "storage/fault_points.hpp"
#include "storage/fragment_store_harness.hpp"

namespace kvsd::storage {
namespace {

using test::Harness;

// Fails the n-th call (from 1) at one point with one fault; every other call proceeds.
class FailNth final : public FaultInjector {
 public:
  FailNth(FaultPoint point, int nth, Fault fault) : point_(point), nth_(nth), fault_(fault) {}
  Fault at(FaultPoint point) override {
    std::lock_guard lock(mu_);
    if (point != point_) return {};
    ++calls_;
    if (calls_ == nth_) {
      ++fired_;
      return fault_;
    }
    return {};
  }
  int fired() {
    std::lock_guard lock(mu_);
    return fired_;
  }

 private:
  std::mutex mu_;
  FaultPoint point_;
  int nth_;
  Fault fault_;
  int calls_ = 0;
  int fired_ = 0;
};

// Arms an injector for the scope.
struct Armed {
  explicit Armed(FaultInjector& f) { set_fault_injector(&f); }
  ~Armed() { set_fault_injector(nullptr); }
  Armed(const Armed&) = delete;
  Armed& operator=(const Armed&) = delete;
};

struct Outcome {
  std::string number;
  std::vector<std::uint8_t> bytes;
  bool ok = false;
  kvs::errc error = kvs::errc::internal;
};

class FaultInjectionTest : public ::testing::Test {
 protected:
  void SetUp() override { h_.open(); }
  void TearDown() override { set_fault_injector(nullptr); }

  Outcome persist(std::int64_t i, std::size_t size = 20'000) {
    auto f = h_.fragment(kStream, 1'000'000 + i * 1000, 2'000'000 + i * 1000, size);
    Outcome o;
    o.number = f.fragment_number;
    o.bytes = f.cluster_bytes;
    auto r = h_.persist(std::move(f));
    o.ok = r.has_value();
    if (!o.ok) o.error = r.error().code;
    if (o.ok) o.number = r.value().record.fragment_number;
    return o;
  }

  // After a restart: exactly the fragments that succeeded are listed, each with its bytes.
  void expect_after_restart(const std::vector<Outcome>& outcomes) {
    h_.open();  // close + reopen: recovery runs
    std::map<std::string, kvs::FragmentRecord> listed;
    for (auto& r : h_.list_all(kStream)) listed[r.fragment_number] = r;
    std::size_t succeeded = 0;
    for (const auto& o : outcomes) {
      if (!o.ok) {
        EXPECT_FALSE(listed.contains(o.number)) << "a failed persist is listed: " << o.number;
        continue;
      }
      ++succeeded;
      ASSERT_TRUE(listed.contains(o.number)) << "an acknowledged fragment is lost: " << o.number;
      auto bytes = h_.store->read_cluster(listed[o.number]);
      ASSERT_TRUE(bytes.has_value()) << bytes.error().message;
      EXPECT_EQ(bytes.value(), o.bytes) << o.number;
    }
    EXPECT_EQ(listed.size(), succeeded);
  }

  // Persists fragments 0..2 with `injector` armed and 3..5 after it, then restarts.
  std::vector<Outcome> run_with(FaultInjector& injector) {
    std::vector<Outcome> out;
    {
      Armed armed(injector);
      for (int i = 0; i < 3; ++i) out.push_back(persist(i));
    }
    for (int i = 3; i < 6; ++i) out.push_back(persist(i));
    for (int i = 3; i < 6; ++i)
      EXPECT_TRUE(out[static_cast<std::size_t>(i)].ok) << "the store recovers after the fault";
    expect_after_restart(out);
    return out;
  }

  static constexpr std::uint64_t kStream = 42;
  Harness h_;
};

TEST_F(FaultInjectionTest, ASegmentWriteFailingWithEioFailsThatFragmentOnly) {
  FailNth f(FaultPoint::segment_write, 1, Fault{Fault::error, EIO});
  const auto out = run_with(f);
  EXPECT_EQ(f.fired(), 1);
  EXPECT_FALSE(out[0].ok);
  EXPECT_EQ(out[0].error, kvs::errc::internal);
  EXPECT_TRUE(out[1].ok);
  EXPECT_TRUE(out[2].ok);
}

TEST_F(FaultInjectionTest, ASegmentWriteFailingWithEnospcFailsThatFragment) {
  FailNth f(FaultPoint::segment_write, 1, Fault{Fault::error, ENOSPC});
  const auto out = run_with(f);
  EXPECT_EQ(f.fired(), 1);
  EXPECT_FALSE(out[0].ok);
  EXPECT_TRUE(out[1].ok);
}

TEST_F(FaultInjectionTest, AShortSegmentWriteIsCompletedAndTheFragmentIsWhole) {
  FailNth f(FaultPoint::segment_write, 1, Fault{Fault::short_io, 0});
  const auto out = run_with(f);
  EXPECT_EQ(f.fired(), 1);
  for (const auto& o : out) EXPECT_TRUE(o.ok);
}

TEST_F(FaultInjectionTest, AFailedFdatasyncFailsItsFragmentsAndTheStoreGoesOn) {
  FailNth f(FaultPoint::segment_sync, 1, Fault{Fault::error, EIO});
  const auto out = run_with(f);
  EXPECT_EQ(f.fired(), 1);
  EXPECT_FALSE(out[0].ok) << "a fragment whose bytes may not be on disk is never acknowledged";
  EXPECT_TRUE(out[1].ok);
}

TEST_F(FaultInjectionTest, AFailedDirectoryFsyncFailsTheFragmentOfTheNewSegment) {
  FailNth f(FaultPoint::dir_sync, 1, Fault{Fault::error, EIO});
  const auto out = run_with(f);
  EXPECT_EQ(f.fired(), 1);
  EXPECT_FALSE(out[0].ok) << "the new segment file's entry may not be durable";
}

TEST_F(FaultInjectionTest, AFailedIndexWriteFailsTheBatchAndIsNotListed) {
  FailNth f(FaultPoint::index_write, 1, Fault{Fault::error, EIO});
  const auto out = run_with(f);
  EXPECT_EQ(f.fired(), 1);
  EXPECT_FALSE(out[0].ok);
  EXPECT_TRUE(out[1].ok);
}

TEST_F(FaultInjectionTest, AnIndexWriteOutOfSpaceRefusesWritesUntilSpaceIsBack) {
  FailNth f(FaultPoint::index_write, 1, Fault{Fault::error, ENOSPC});
  Outcome first;
  {
    Armed armed(f);
    first = persist(0);
  }
  EXPECT_EQ(f.fired(), 1);
  EXPECT_FALSE(first.ok);
  // The store is now in degraded mode (docs/storage.md, "Disk full"): writes are refused, with
  // the storage-full error, until the disk check finds space again; nothing is claimed durable.
  const auto second = persist(1);
  EXPECT_FALSE(second.ok);
  EXPECT_NE(second.error, kvs::errc::internal);
  expect_after_restart({first, second});
}

}  // namespace
}  // namespace kvsd::storage
