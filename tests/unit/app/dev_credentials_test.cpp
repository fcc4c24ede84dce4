#include "app/dev_credentials.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cctype>
#include <fstream>
#include <stdexcept>

#include "support/temp_dir.hpp"

namespace kvsd::app {
namespace {

using testing_support::TempDir;

TEST(DevCredentials, RandomPairHasTheAwsShape) {
  const auto a = make_random_credentials();
  const auto b = make_random_credentials();
  ASSERT_EQ(a.access_key_id.size(), 20u);
  EXPECT_EQ(a.access_key_id.rfind("AKIA", 0), 0u);
  for (char ch : a.access_key_id) {
    EXPECT_TRUE(std::isupper(static_cast<unsigned char>(ch)) || std::isdigit(static_cast<unsigned char>(ch)));
  }
  EXPECT_EQ(a.secret_access_key.size(), 40u);
  EXPECT_NE(a.access_key_id, b.access_key_id);
  EXPECT_NE(a.secret_access_key, b.secret_access_key);
}

TEST(DevCredentials, CreatedWithMode0600AndReused) {
  TempDir dir;
  const auto path = (dir.path() / "sub" / "credentials").string();
  const auto first = ensure_dev_credentials(path);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const auto again = ensure_dev_credentials(path);
  EXPECT_EQ(again.access_key_id, first.access_key_id);
  EXPECT_EQ(again.secret_access_key, first.secret_access_key);
}

TEST(DevCredentials, ReadsAHandWrittenFileAndRejectsAMalformedOne) {
  TempDir dir;
  const auto path = (dir.path() / "credentials").string();
  std::ofstream(path) << "access_key_id = \"AKIAHAND\"\nsecret_access_key = \"hand/secret+x\"\n";
  const auto c = ensure_dev_credentials(path);
  EXPECT_EQ(c.access_key_id, "AKIAHAND");
  EXPECT_EQ(c.secret_access_key, "hand/secret+x");
  std::ofstream(path) << "access_key_id = \"AKIAHAND\"\n";
  EXPECT_THROW(ensure_dev_credentials(path), std::runtime_error);
}

}  // namespace
}  // namespace kvsd::app
