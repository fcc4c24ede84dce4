#include "app/config.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace kvsd::app {
namespace {

ConfigResult parse(std::vector<const char*> args, const std::map<std::string, std::string>& env = {}) {
  args.insert(args.begin(), "kvsd");
  return load_config(static_cast<int>(args.size()), args.data(), env);
}

std::string write_temp(const std::string& text) {
  auto path = std::filesystem::temp_directory_path() / ("kvsd-config-" + std::to_string(::getpid()) + ".toml");
  std::ofstream(path) << text;
  return path.string();
}

TEST(Config, Defaults) {
  auto r = parse({});
  EXPECT_FALSE(r.help);
  EXPECT_EQ(r.config.data_dir, "./data");
  EXPECT_EQ(r.config.http, "127.0.0.1:8080");
  EXPECT_EQ(r.config.https, "127.0.0.1:8443");
  EXPECT_EQ(r.config.limits.header_bytes, 16384u);
}

TEST(Config, DiskFullKeys) {
  auto defaults = parse({}).config;
  EXPECT_EQ(defaults.storage_index_reserve_bytes, 16u << 20);
  EXPECT_EQ(defaults.storage_disk_check_seconds, 5);
  const auto path = write_temp("[storage]\nindex_reserve_bytes = 1048576\ndisk_check_seconds = 2\n");
  auto r = parse({"--config", path.c_str()}, {{"KVSD_STORAGE_DISK_CHECK_SECONDS", "3"}});
  std::remove(path.c_str());
  EXPECT_EQ(r.config.storage_index_reserve_bytes, 1048576u);
  EXPECT_EQ(r.config.storage_disk_check_seconds, 3);
  EXPECT_EQ(parse({"--storage-index-reserve-bytes", "0"}).config.storage_index_reserve_bytes, 0u);
  EXPECT_THROW(parse({"--storage-disk-check-seconds", "0"}), std::invalid_argument);
}

TEST(Config, FileThenEnvThenFlags) {
  const auto path = write_temp(
      "data_dir = \"/from/file\"\nhttp = \"0.0.0.0:9000\"\n[limits]\nheader_bytes = 8192\n"
      "[timeouts]\nidle_seconds = 2.5\n[tls]\nnames = [\"cam.lan\", \"192.168.1.5\"]\n");
  auto r = parse({"--config", path.c_str(), "--http=127.0.0.1:0"},
                 {{"KVSD_DATA_DIR", "/from/env"}, {"KVSD_HTTP", "1.2.3.4:1"}, {"KVSD_LIMITS_HEADER_COUNT", "7"}});
  EXPECT_EQ(r.config.data_dir, "/from/env");
  EXPECT_EQ(r.config.http, "127.0.0.1:0");
  EXPECT_EQ(r.config.limits.header_bytes, 8192u);
  EXPECT_EQ(r.config.limits.header_count, 7u);
  EXPECT_EQ(r.config.limits.idle_timeout, std::chrono::milliseconds(2500));
  ASSERT_EQ(r.config.tls_names.size(), 2u);
  EXPECT_EQ(r.config.tls_names[1], "192.168.1.5");
  std::remove(path.c_str());
}

TEST(Config, EmptyValueDisablesListener) {
  auto r = parse({"--https", ""});
  EXPECT_TRUE(r.config.https.empty());
}

TEST(Config, RejectsUnknownAndBadInput) {
  EXPECT_THROW(parse({"--no-such-flag", "1"}), std::invalid_argument);
  EXPECT_THROW(parse({"--limits-header-bytes", "lots"}), std::invalid_argument);
  EXPECT_THROW(parse({"--http"}), std::invalid_argument);
  EXPECT_THROW(parse({}, {{"KVSD_TIMEOUTS_IDLE_SECONDS", "-1"}}), std::invalid_argument);
  const auto path = write_temp("[limits]\nheader_byts = 1\n");
  EXPECT_THROW(parse({"--config", path.c_str()}), std::invalid_argument);
  std::remove(path.c_str());
}

TEST(Config, HelpListsEveryFlagWithItsEnvName) {
  EXPECT_TRUE(parse({"--help"}).help);
  const auto text = config_help();
  EXPECT_NE(text.find("--data-dir VALUE  (KVSD_DATA_DIR)"), std::string::npos);
  EXPECT_NE(text.find("--tls-cert VALUE  (KVSD_TLS_CERT)"), std::string::npos);
  EXPECT_NE(text.find("--limits-h2-max-concurrent-streams"), std::string::npos);
}

TEST(Config, AuthDefaults) {
  const auto c = parse({}).config;
  EXPECT_EQ(c.auth, "sigv4");
  EXPECT_FALSE(c.auth_check_region);
  EXPECT_EQ(c.region, "us-west-2");
  EXPECT_EQ(c.account_id, "123456789012");
  EXPECT_TRUE(c.access_key_id.empty());
  EXPECT_TRUE(c.secret_access_key.empty());
}

TEST(Config, AuthKeysFromFlagsFileAndEnv) {
  auto c =
      parse({"--auth", "none", "--auth-check-region", "true", "--region", "eu-west-1", "--account-id", "000011112222"})
          .config;
  EXPECT_EQ(c.auth, "none");
  EXPECT_TRUE(c.auth_check_region);
  EXPECT_EQ(c.region, "eu-west-1");
  EXPECT_EQ(c.account_id, "000011112222");

  const auto path = write_temp(
      "region = \"ap-south-1\"\n[auth]\nmode = \"none\"\ncheck_region = true\n"
      "[credentials]\naccess_key_id = \"AKIAFILE\"\nsecret_access_key = \"filesecret\"\n");
  c = parse({"--config", path.c_str()}).config;
  std::remove(path.c_str());
  EXPECT_EQ(c.auth, "none");
  EXPECT_TRUE(c.auth_check_region);
  EXPECT_EQ(c.region, "ap-south-1");
  EXPECT_EQ(c.access_key_id, "AKIAFILE");
  EXPECT_EQ(c.secret_access_key, "filesecret");

  c = parse({}, {{"KVSD_CREDENTIALS_ACCESS_KEY_ID", "AKIAGENERIC"}, {"KVSD_CREDENTIALS_SECRET_ACCESS_KEY", "s1"}})
          .config;
  EXPECT_EQ(c.access_key_id, "AKIAGENERIC");
  EXPECT_EQ(c.secret_access_key, "s1");
}

TEST(Config, ShortCredentialEnvNames) {
  auto c = parse({}, {{"KVSD_ACCESS_KEY_ID", "AKIASHORT"}, {"KVSD_SECRET_ACCESS_KEY", "s2"}}).config;
  EXPECT_EQ(c.access_key_id, "AKIASHORT");
  EXPECT_EQ(c.secret_access_key, "s2");
  // The generic name wins over the short one; flags win over both.
  c = parse({}, {{"KVSD_ACCESS_KEY_ID", "AKIASHORT"}, {"KVSD_CREDENTIALS_ACCESS_KEY_ID", "AKIAGENERIC"}}).config;
  EXPECT_EQ(c.access_key_id, "AKIAGENERIC");
  c = parse({"--credentials-access-key-id", "AKIAFLAG"}, {{"KVSD_ACCESS_KEY_ID", "AKIASHORT"}}).config;
  EXPECT_EQ(c.access_key_id, "AKIAFLAG");
}

TEST(Config, RejectsBadAuthValues) {
  EXPECT_THROW(parse({"--auth", "basic"}), std::invalid_argument);
  EXPECT_THROW(parse({"--auth-check-region", "maybe"}), std::invalid_argument);
  EXPECT_THROW(parse({"--account-id", "12ab"}), std::invalid_argument);
}

}  // namespace
}  // namespace kvsd::app
