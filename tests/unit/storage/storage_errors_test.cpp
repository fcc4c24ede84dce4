#include "storage/storage_errors.hpp"

#include <gtest/gtest.h>
#include <rocksdb/status.h>

#include <cerrno>
#include <string>

#include "storage/segment_file.hpp"

namespace kvsd::storage {
namespace {

TEST(StorageErrors, StatusSummaryDropsFileNames) {
  const auto no_space = rocksdb::Status::NoSpace("While appending to file: /data/index/000004.log", "No space left");
  EXPECT_EQ(status_summary(no_space), "no space left on device");
  EXPECT_EQ(status_summary(rocksdb::Status::IOError("/data/index/000009.sst", "Input/output error")), "I/O error");
  EXPECT_EQ(status_summary(rocksdb::Status::Corruption("/data/index/000009.sst")), "corruption");
  EXPECT_EQ(status_summary(rocksdb::Status::OK()), "ok");
}

TEST(StorageErrors, FailuresSayWhatFailedWithoutThePath) {
  const auto e = storage_failure("fragment index: commit", "I/O error", "IO error: /secret/data/index/000004.log");
  EXPECT_EQ(e.code, kvs::errc::internal);
  EXPECT_EQ(e.message, "fragment index: commit failed (I/O error)");
  const auto f = file_failure("open", "/secret/data/blobs/0000000000000001/0000000000000002.seg", ENOENT);
  EXPECT_EQ(f.code, kvs::errc::internal);
  EXPECT_EQ(f.message.find("/secret"), std::string::npos) << f.message;
  EXPECT_NE(f.message.find("No such file or directory"), std::string::npos) << f.message;
}

TEST(StorageErrors, SegmentReadErrorsNameNoPath) {
  const auto r = read_segment_range("/nonexistent-kvsd-dir/0000000000000001.seg", 0, 10);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message.find("nonexistent-kvsd-dir"), std::string::npos) << r.error().message;
  const auto o = open_segment("/nonexistent-kvsd-dir/0000000000000001.seg");
  ASSERT_FALSE(o.has_value());
  EXPECT_EQ(o.error().message.find("nonexistent-kvsd-dir"), std::string::npos) << o.error().message;
}

}  // namespace
}  // namespace kvsd::storage
