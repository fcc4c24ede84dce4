// SegmentFile appends, buffered and direct (O_DIRECT): whatever the sizes and the way the bytes are
// split into ranges, the file holds them back to back; truncate() rolls back; a direct file's
// padding past size() is gone once it is closed.

#include "storage/segment_file.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <numeric>
#include <thread>
#include <utility>
#include <vector>

#include "support/temp_dir.hpp"

namespace kvsd::storage {
namespace {

std::vector<std::uint8_t> pattern(std::size_t n, std::uint8_t seed) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(seed + i * 131 + (i >> 9));
  return v;
}

// `bytes` as a staged part of ranges of the given lengths (the last takes the rest).
kvs::StagedPart split(const std::shared_ptr<std::vector<std::uint8_t>>& bytes, std::vector<std::size_t> lengths) {
  kvs::StagedPart part;
  std::size_t at = 0;
  for (std::size_t i = 0; at < bytes->size(); ++i) {
    const auto n = i < lengths.size() ? std::min(lengths[i], bytes->size() - at) : bytes->size() - at;
    part.push_back(kvs::SharedBytes{bytes, std::span<const std::uint8_t>(bytes->data() + at, n)});
    at += n;
  }
  return part;
}

std::vector<std::uint8_t> read_all_of(const SegmentFile& f) {
  auto r = read_segment_range(f.path(), 0, f.size());
  return r.has_value() ? std::move(r.value()) : std::vector<std::uint8_t>{};
}

class SegmentFileTest : public ::testing::TestWithParam<bool> {
 protected:
  testing_support::TempDir dir_{"kvsd-segment"};
  std::filesystem::path blobs() const { return dir_.path() / "blobs"; }

  SegmentFile create(std::uint64_t segment_id = 1) {
    auto f = SegmentFile::create(blobs(), 7, segment_id, GetParam());
    EXPECT_TRUE(f.has_value()) << f.error().message;
    return std::move(f.value());
  }
  std::vector<std::uint8_t> read_all(const SegmentFile& f) {
    auto r = read_segment_range(f.path(), 0, f.size());
    if (!r.has_value()) {
      ADD_FAILURE() << r.error().message;
      return {};
    }
    return std::move(r.value());
  }
};

TEST_P(SegmentFileTest, AppendsOfEverySizeLandBackToBack) {
  auto f = create();
  std::vector<std::uint8_t> expected;
  // Around the block size and the 1 MiB copy buffer of direct writes.
  const std::size_t sizes[] = {1, 4095, 1, 4096, 4097, 0, 3, (1u << 20) - 5, 10, (1u << 20) + 13, 2 * 4096, 777};
  std::uint8_t seed = 1;
  for (const auto n : sizes) {
    const auto bytes = pattern(n, seed++);
    auto at = f.append(bytes);
    ASSERT_TRUE(at.has_value()) << at.error().message;
    EXPECT_EQ(at.value(), expected.size());
    expected.insert(expected.end(), bytes.begin(), bytes.end());
    ASSERT_EQ(f.size(), expected.size());
    ASSERT_EQ(read_all(f), expected) << "after appending " << n << " bytes";
  }
}

TEST_P(SegmentFileTest, StagedPartsOfManyRangesAreJoined) {
  auto f = create();
  std::vector<std::uint8_t> expected;
  const std::vector<std::vector<std::size_t>> splits = {
      {1, 2, 3}, {4096, 1}, {100, 5000, 70000, 1u << 20}, {4095, 4097, 1}, {}};
  std::uint8_t seed = 9;
  for (const auto& lengths : splits) {
    const auto total = std::accumulate(lengths.begin(), lengths.end(), std::size_t{0}) + 1234;
    auto bytes = std::make_shared<std::vector<std::uint8_t>>(pattern(total, seed++));
    auto at = f.append(split(bytes, lengths));
    ASSERT_TRUE(at.has_value()) << at.error().message;
    EXPECT_EQ(at.value(), expected.size());
    expected.insert(expected.end(), bytes->begin(), bytes->end());
  }
  EXPECT_EQ(read_all(f), expected);
}

TEST_P(SegmentFileTest, TruncateRollsBackAndTheNextAppendFollowsTheKeptBytes) {
  auto f = create();
  const auto a = pattern(10000, 3);
  ASSERT_TRUE(f.append(a).has_value());
  ASSERT_TRUE(f.append(pattern(9000, 4)).has_value());
  // Back to the middle of a block, then to a block boundary; each time the next append follows.
  for (const std::uint64_t keep : {std::uint64_t{6001}, std::uint64_t{4096}}) {
    ASSERT_TRUE(f.truncate(keep).has_value());
    EXPECT_EQ(f.size(), keep);
    const auto b = pattern(5000, static_cast<std::uint8_t>(keep));
    auto at = f.append(b);
    ASSERT_TRUE(at.has_value()) << at.error().message;
    EXPECT_EQ(at.value(), keep);
    std::vector<std::uint8_t> expected(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(keep));
    expected.insert(expected.end(), b.begin(), b.end());
    EXPECT_EQ(read_all(f), expected) << "after truncating to " << keep;
  }
}

TEST_P(SegmentFileTest, SyncedBytesReadBackAndTheClosedFileEndsAtSize) {
  std::filesystem::path path;
  std::vector<std::uint8_t> expected;
  {
    auto f = create();
    path = f.path();
    for (const std::size_t n : {100u, 5000u, 123u}) {
      const auto bytes = pattern(n, static_cast<std::uint8_t>(n));
      ASSERT_TRUE(f.append(bytes).has_value());
      expected.insert(expected.end(), bytes.begin(), bytes.end());
      ASSERT_TRUE(f.sync().has_value());
      // While open, a direct file may run on to the end of its last block, never further.
      const auto on_disk = std::filesystem::file_size(path);
      EXPECT_GE(on_disk, f.size());
      EXPECT_LT(on_disk, f.size() + SegmentFile::kBlock);
    }
  }
  EXPECT_EQ(std::filesystem::file_size(path), expected.size());
  auto r = read_segment_range(path, 0, expected.size());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r.value(), expected);
}

// Pages of the file in the page cache (mincore over a read-only mapping, which faults none in).
std::size_t resident_pages(const std::filesystem::path& path, std::size_t size) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) return 0;
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> in((size + page - 1) / page);
  std::size_t resident = 0;
  if (::mincore(map, size, in.data()) == 0)
    for (const auto c : in) resident += c & 1;
  ::munmap(map, size);
  return resident;
}

TEST_P(SegmentFileTest, DirectAppendsLeaveNothingInThePageCache) {
  auto f = create();
  constexpr std::size_t kBytes = 64 * 4096 + 77;
  ASSERT_TRUE(f.append(pattern(kBytes, 1)).has_value());
  const auto resident = resident_pages(f.path(), kBytes);
  if (!GetParam()) {
    EXPECT_GT(resident, 0u) << "buffered appends go through the page cache";
    return;
  }
  // The test directory's file system may refuse O_DIRECT (the file then falls back to buffered).
  if (!f.direct()) GTEST_SKIP() << "O_DIRECT refused in " << ::testing::TempDir();
  EXPECT_EQ(resident, 0u);
}

TEST_P(SegmentFileTest, AppendingNothingWritesNothing) {
  // A write would move the file's modification time (the clock it reads ticks every few ms).
  auto f = create();
  ASSERT_TRUE(f.append(pattern(4096 + 100, 3)).has_value());  // a partial last block
  auto mtime = [&] {
    struct stat st {};
    EXPECT_EQ(::stat(f.path().c_str(), &st), 0);
    return std::pair(st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
  };
  const auto before = mtime();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const auto at = f.append(std::span<const std::uint8_t>{});
  ASSERT_TRUE(at.has_value()) << at.error().message;
  EXPECT_EQ(at.value(), 4096u + 100u);
  EXPECT_EQ(f.append(kvs::StagedPart{}).value(), 4096u + 100u);
  EXPECT_EQ(f.size(), 4096u + 100u);
  EXPECT_EQ(mtime(), before) << "an empty append wrote to the file";
  // The check can fail: a real append after the same pause moves the time.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(f.append(pattern(10, 4)).has_value());
  EXPECT_NE(mtime(), before);
  EXPECT_EQ(read_all(f).size(), 4096u + 110u);
}

INSTANTIATE_TEST_SUITE_P(Modes, SegmentFileTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& p) { return p.param ? "direct" : "buffered"; });

// SyncPool: every file of a round is synced (one status each, in order), and a round of n files
// wakes at most n - 1 helpers (the caller syncs too), not all of them.
TEST(SyncPoolTest, SyncsEveryFileAndWakesOnlyTheHelpersARoundNeeds) {
  testing_support::TempDir dir{"kvsd-syncpool"};
  std::vector<SegmentFile> files;
  for (std::uint64_t id = 1; id <= 12; ++id) {
    auto f = SegmentFile::create(dir.path() / "blobs", 7, id);
    ASSERT_TRUE(f.has_value()) << f.error().message;
    ASSERT_TRUE(f->append(std::span<const std::uint8_t>(pattern(5000, static_cast<std::uint8_t>(id)))).has_value());
    files.push_back(std::move(f.value()));
  }
  auto round = [&](std::size_t n) {
    std::vector<SegmentFile*> ptrs;
    for (std::size_t i = 0; i < n; ++i) ptrs.push_back(&files[i]);
    return ptrs;
  };
  SyncPool pool(6);  // the caller and 5 helpers
  const std::vector<std::pair<std::size_t, std::uint64_t>> rounds = {{1, 0}, {2, 1}, {4, 3}, {12, 5}, {2, 1}};
  std::uint64_t joined = 0;
  for (const auto& [n, helpers] : rounds) {
    const auto statuses = pool.sync(round(n));
    ASSERT_EQ(statuses.size(), n);
    for (const auto& st : statuses) EXPECT_TRUE(st.has_value()) << st.error().message;
    joined += helpers;
    EXPECT_EQ(pool.helpers_joined(), joined) << "after a round of " << n << " files";
  }
  for (std::size_t i = 0; i < files.size(); ++i)
    EXPECT_EQ(read_all_of(files[i]), pattern(5000, static_cast<std::uint8_t>(i + 1)));
}

}  // namespace
}  // namespace kvsd::storage
