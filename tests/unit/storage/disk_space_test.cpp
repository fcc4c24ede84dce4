#include "storage/disk_space.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "support/temp_dir.hpp"

namespace kvsd::storage {
namespace {

void write_file(const std::filesystem::path& p, std::size_t n) {
  std::ofstream out(p, std::ios::binary);
  out << std::string(n, 'x');
}

TEST(DiskSpace, FreeBytesOfAPathNotYetMadeIsItsAncestors) {
  testing_support::TempDir dir{"kvsd-disk-space"};
  const auto here = free_bytes(dir.path());
  ASSERT_TRUE(here.has_value());
  EXPECT_GT(here.value(), 0u);
  const auto below = free_bytes(dir.path() / "not" / "yet");
  ASSERT_TRUE(below.has_value());
  // Same file system; other processes may write meanwhile, so only roughly equal.
  const auto diff = below.value() > here.value() ? below.value() - here.value() : here.value() - below.value();
  EXPECT_LT(diff, 256ULL << 20);
}

TEST(DiskSpace, IndexOpenBytesCountsLogsAndManifestsOnly) {
  testing_support::TempDir dir{"kvsd-disk-space"};
  EXPECT_EQ(index_open_bytes(dir.path() / "missing"), 0u);
  EXPECT_EQ(index_open_bytes(dir.path()), 0u);
  write_file(dir.path() / "000012.log", 1000);
  write_file(dir.path() / "000013.log", 24);
  write_file(dir.path() / "MANIFEST-000011", 300);
  write_file(dir.path() / "000010.sst", 5000);       // already a table file
  write_file(dir.path() / "LOG", 7000);              // RocksDB's info log, not a WAL
  write_file(dir.path() / "LOG.old.1234.log", 0);    // empty anyway
  write_file(dir.path() / "OPTIONS-000014", 40000);  // rewritten, but small and bounded
  EXPECT_EQ(index_open_bytes(dir.path()), 1324u);
}

}  // namespace
}  // namespace kvsd::storage
