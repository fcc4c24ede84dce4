#include "storage/rocksdb_stream_store.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <memory>
#include <optional>
#include <string>

#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include "storage/database.hpp"
#include "support/temp_dir.hpp"

namespace kvsd::storage {
namespace {

using kvs::errc;

class StreamStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { open(); }
  void open() {
    store_.reset();
    db_.reset();
    db_ = Database::open((dir_.path() / "index").string());
    StreamStoreOptions o;
    o.region = "eu-west-1";
    o.account_id = "111122223333";
    o.now_ms = [this] { return now_ms_; };
    store_ = std::make_unique<RocksDbStreamStore>(db_, o);
  }
  kvs::StreamInfo create(const std::string& name) {
    kvs::CreateStreamInput in;
    in.stream_name = name;
    in.data_retention_in_hours = 24;
    auto r = store_->create(in);
    EXPECT_TRUE(r.has_value());
    return r.value();
  }

  testing_support::TempDir dir_;
  std::int64_t now_ms_ = 1700000000123;
  std::shared_ptr<Database> db_;
  std::unique_ptr<RocksDbStreamStore> store_;
};

TEST(StreamArn, RoundTrip) {
  const auto arn = make_stream_arn("us-west-2", "123456789012", "my.stream-1", 42);
  EXPECT_EQ(arn, "arn:aws:kinesisvideo:us-west-2:123456789012:stream/my.stream-1/42");
  std::string name;
  std::int64_t ms = 0;
  ASSERT_TRUE(parse_stream_arn(arn, name, ms));
  EXPECT_EQ(name, "my.stream-1");
  EXPECT_EQ(ms, 42);
  EXPECT_FALSE(parse_stream_arn("arn:aws:kinesisvideo:us-west-2:1:stream/x/", name, ms));
  EXPECT_FALSE(parse_stream_arn("arn:aws:kinesisvideo:us-west-2:1:stream//5", name, ms));
  EXPECT_FALSE(parse_stream_arn("arn:aws:s3:::bucket", name, ms));
  EXPECT_FALSE(parse_stream_arn("arn:aws:kinesisvideo:us-west-2:1:stream/x/12a", name, ms));
}

TEST_F(StreamStoreTest, CreateDescribeByNameAndArn) {
  kvs::CreateStreamInput in;
  in.stream_name = "cam1";
  in.device_name = "dev";
  in.media_type = "video/h264";
  in.data_retention_in_hours = 2;
  in.tags = {{"k", "v"}};
  auto r = store_->create(in);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->stream_arn, "arn:aws:kinesisvideo:eu-west-1:111122223333:stream/cam1/1700000000123");
  EXPECT_EQ(r->status, kvs::StreamStatus::active);
  EXPECT_EQ(r->creation_time_ms, now_ms_);
  EXPECT_FALSE(r->version.empty());

  auto again = store_->create(in);
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, errc::resource_in_use);

  auto by_name = store_->describe({"cam1", {}});
  ASSERT_TRUE(by_name.has_value());
  EXPECT_EQ(by_name->device_name, "dev");
  EXPECT_EQ(by_name->media_type, "video/h264");
  EXPECT_EQ(by_name->data_retention_in_hours, 2);
  EXPECT_EQ(by_name->tags.at("k"), "v");
  auto by_arn = store_->describe({{}, r->stream_arn});
  ASSERT_TRUE(by_arn.has_value());
  EXPECT_EQ(by_arn->version, r->version);

  // Same name, other creation time: another (older) stream.
  auto stale = store_->describe({{}, make_stream_arn("eu-west-1", "111122223333", "cam1", 5)});
  ASSERT_FALSE(stale.has_value());
  EXPECT_EQ(stale.error().code, errc::resource_not_found);
  EXPECT_EQ(store_->describe({"nope", {}}).error().code, errc::resource_not_found);
}

TEST_F(StreamStoreTest, DeleteIsImmediateAndNameReusable) {
  const auto s = create("gone");
  auto wrong = store_->remove({"gone", {}}, "not-the-version");
  ASSERT_FALSE(wrong.has_value());
  EXPECT_EQ(wrong.error().code, errc::version_mismatch);
  ASSERT_TRUE(store_->remove({{}, s.stream_arn}, s.version).has_value());
  EXPECT_EQ(store_->describe({"gone", {}}).error().code, errc::resource_not_found);
  EXPECT_EQ(store_->remove({"gone", {}}, {}).error().code, errc::resource_not_found);
  EXPECT_TRUE(store_->list({}).value().streams.empty());
  now_ms_ += 1000;
  const auto again = create("gone");
  EXPECT_NE(again.stream_arn, s.stream_arn);
}

TEST_F(StreamStoreTest, ListPrefixAndPages) {
  for (const auto* n : {"a1", "b1", "b2", "b3", "b4", "b5", "c1"}) create(n);
  kvs::ListStreamsInput in;
  in.name_prefix = "b";
  in.max_results = 2;
  std::vector<std::string> seen;
  int pages = 0;
  do {
    auto page = store_->list(in);
    ASSERT_TRUE(page.has_value());
    for (const auto& s : page->streams) seen.push_back(s.stream_name);
    in.next_token = page->next_token;
    for (char c : in.next_token)
      EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '=');
    ++pages;
  } while (!in.next_token.empty());
  EXPECT_EQ(seen, (std::vector<std::string>{"b1", "b2", "b3", "b4", "b5"}));
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(store_->list({}).value().streams.size(), 7u);
  kvs::ListStreamsInput bad;
  bad.next_token = "!!";
  EXPECT_EQ(store_->list(bad).error().code, errc::invalid_argument);
}

TEST_F(StreamStoreTest, UpdateAndRetentionCheckVersion) {
  const auto s = create("u");
  kvs::UpdateStreamInput up;
  up.ref = {"u", {}};
  up.current_version = "stale";
  up.media_type = "audio/aac";
  EXPECT_EQ(store_->update(up).error().code, errc::version_mismatch);
  up.current_version = s.version;
  auto r = store_->update(up);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->media_type, "audio/aac");
  EXPECT_NE(r->version, s.version);

  kvs::UpdateRetentionInput ret;
  ret.ref = {"u", {}};
  ret.current_version = r->version;
  ret.operation = kvs::RetentionOperation::decrease;
  ret.change_in_hours = 25;
  EXPECT_EQ(store_->update_retention(ret).error().code, errc::invalid_argument);
  ret.operation = kvs::RetentionOperation::increase;
  auto r2 = store_->update_retention(ret);
  ASSERT_TRUE(r2.has_value());
  EXPECT_EQ(r2->data_retention_in_hours, 49);
  EXPECT_EQ(store_->update_retention(ret).error().code, errc::version_mismatch);
}

TEST_F(StreamStoreTest, TagsLimit) {
  create("t");
  kvs::Tags tags;
  for (int i = 0; i < 50; ++i) tags["k" + std::to_string(i)] = "v";
  ASSERT_TRUE(store_->tag({"t", {}}, tags).has_value());
  ASSERT_TRUE(store_->tag({"t", {}}, {{"k1", "changed"}}).has_value());
  auto over = store_->tag({"t", {}}, {{"extra", "x"}});
  ASSERT_FALSE(over.has_value());
  EXPECT_EQ(over.error().code, errc::tags_per_resource_exceeded);
  ASSERT_TRUE(store_->untag({"t", {}}, {"k0", "k2", "missing"}).has_value());
  auto listed = store_->list_tags({"t", {}});
  ASSERT_TRUE(listed.has_value());
  EXPECT_EQ(listed->size(), 48u);
  EXPECT_EQ(listed->at("k1"), "changed");
  EXPECT_EQ(store_->list_tags({"none", {}}).error().code, errc::resource_not_found);
}

TEST_F(StreamStoreTest, SurvivesReopen) {
  const auto s = create("durable");
  ASSERT_TRUE(store_->tag({"durable", {}}, {{"a", "b"}}).has_value());
  const auto tagged = store_->describe({"durable", {}}).value();
  create("deleted");
  ASSERT_TRUE(store_->remove({"deleted", {}}, {}).has_value());
  open();
  auto r = store_->describe({{}, s.stream_arn});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->version, tagged.version);
  EXPECT_EQ(r->tags.at("a"), "b");
  EXPECT_EQ(r->data_retention_in_hours, 24);
  EXPECT_EQ(store_->describe({"deleted", {}}).error().code, errc::resource_not_found);
}

kvs::ImageGenerationConfiguration sample_image_config() {
  kvs::ImageGenerationConfiguration c;
  c.status = "ENABLED";
  c.image_selector_type = "SERVER_TIMESTAMP";
  c.destination_uri = "s3://bucket/prefix";
  c.destination_region = "us-west-2";
  c.sampling_interval_ms = 3000;
  c.format = "JPEG";
  c.format_config = {{"JPEGQuality", "80"}};
  c.width_pixels = 640;
  return c;
}

TEST_F(StreamStoreTest, ConfigurationsAbsentByDefault) {
  const auto info = create("cfg");
  auto img = store_->image_generation_configuration({"cfg", {}});
  ASSERT_TRUE(img.has_value());
  EXPECT_FALSE(img.value().has_value());
  auto note = store_->notification_configuration({{}, info.stream_arn});
  ASSERT_TRUE(note.has_value());
  EXPECT_FALSE(note.value().has_value());
}

TEST_F(StreamStoreTest, ConfigurationsRoundTripAndLeaveVersionAlone) {
  const auto info = create("cfg");
  const auto img = sample_image_config();
  ASSERT_TRUE(store_->set_image_generation_configuration({"cfg", {}}, img).has_value());
  const kvs::NotificationConfiguration note{"DISABLED", "arn:aws:sns:us-west-2:1:topic"};
  ASSERT_TRUE(store_->set_notification_configuration({{}, info.stream_arn}, note).has_value());

  auto got_img = store_->image_generation_configuration({{}, info.stream_arn});
  ASSERT_TRUE(got_img.has_value());
  ASSERT_TRUE(got_img.value().has_value());
  EXPECT_EQ(*got_img.value(), img);
  EXPECT_FALSE(got_img.value()->height_pixels.has_value());
  auto got_note = store_->notification_configuration({"cfg", {}});
  ASSERT_TRUE(got_note.has_value());
  ASSERT_TRUE(got_note.value().has_value());
  EXPECT_EQ(*got_note.value(), note);

  auto after = store_->describe({"cfg", {}});
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->version, info.version);

  // Persist across reopen.
  open();
  got_img = store_->image_generation_configuration({"cfg", {}});
  ASSERT_TRUE(got_img.has_value() && got_img.value().has_value());
  EXPECT_EQ(*got_img.value(), img);
  got_note = store_->notification_configuration({"cfg", {}});
  ASSERT_TRUE(got_note.has_value() && got_note.value().has_value());
  EXPECT_EQ(*got_note.value(), note);

  // nullopt removes; the other configuration stays.
  ASSERT_TRUE(store_->set_image_generation_configuration({"cfg", {}}, std::nullopt).has_value());
  got_img = store_->image_generation_configuration({"cfg", {}});
  ASSERT_TRUE(got_img.has_value());
  EXPECT_FALSE(got_img.value().has_value());
  got_note = store_->notification_configuration({"cfg", {}});
  ASSERT_TRUE(got_note.has_value() && got_note.value().has_value());
}

TEST_F(StreamStoreTest, ConfigurationErrors) {
  EXPECT_EQ(store_->image_generation_configuration({"nope", {}}).error().code, errc::resource_not_found);
  EXPECT_EQ(store_->notification_configuration({"nope", {}}).error().code, errc::resource_not_found);
  EXPECT_EQ(store_->set_image_generation_configuration({"nope", {}}, sample_image_config()).error().code,
            errc::resource_not_found);
  EXPECT_EQ(store_->set_notification_configuration({"nope", {}}, std::nullopt).error().code, errc::resource_not_found);
  kvs::CreateStreamInput in;
  in.stream_name = "noretention";
  ASSERT_TRUE(store_->create(in).has_value());
  EXPECT_EQ(store_->set_image_generation_configuration({"noretention", {}}, sample_image_config()).error().code,
            errc::no_data_retention);
  const kvs::NotificationConfiguration note{"ENABLED", "arn:aws:sns:us-west-2:1:topic"};
  EXPECT_EQ(store_->set_notification_configuration({"noretention", {}}, note).error().code, errc::no_data_retention);
  EXPECT_TRUE(store_->set_notification_configuration({"noretention", {}}, std::nullopt).has_value());
}

TEST_F(StreamStoreTest, StreamIdsAreUniqueAndNeverReused) {
  const auto a = create("a");
  const auto b = create("b");
  EXPECT_NE(a.stream_id, 0u);
  EXPECT_NE(a.stream_id, b.stream_id);
  EXPECT_EQ(store_->describe({"a", {}}).value().stream_id, a.stream_id);
  EXPECT_EQ(store_->list({}).value().streams.at(1).stream_id, b.stream_id);
  ASSERT_TRUE(store_->remove({"a", {}}, {}).has_value());
  const auto a2 = create("a");
  EXPECT_NE(a2.stream_id, a.stream_id);
  EXPECT_NE(a2.stream_id, b.stream_id);
  open();
  const auto c = create("c");
  EXPECT_GT(c.stream_id, a2.stream_id);
  EXPECT_EQ(store_->describe({"a", {}}).value().stream_id, a2.stream_id);
  // The old "a" waits for its data to be purged, alongside the new one.
  auto deleting = store_->list_deleting();
  ASSERT_TRUE(deleting.has_value());
  ASSERT_EQ(deleting->size(), 1u);
  EXPECT_EQ(deleting->front().stream_id, a.stream_id);
  EXPECT_EQ(deleting->front().stream_name, "a");
  EXPECT_EQ(deleting->front().status, kvs::StreamStatus::deleting);
  ASSERT_TRUE(store_->purge_deleted(a.stream_id).has_value());
  EXPECT_TRUE(store_->list_deleting().value().empty());
  EXPECT_TRUE(store_->purge_deleted(a.stream_id).has_value());
  EXPECT_EQ(store_->describe({"a", {}}).value().stream_id, a2.stream_id);
}

// A hand-encoded StreamRecord as the previous version wrote it (no stream_id field).
std::string legacy_record(const std::string& name, bool deleting) {
  std::string v;
  v += '\x08';  // format_version = 1
  v += '\x01';
  v += '\x12';  // stream_name
  v += static_cast<char>(name.size());
  v += name;
  v += '\x32';  // version
  v += '\x02';
  v += "v1";
  if (deleting) {
    v += '\x38';  // status = DELETING
    v += '\x03';
  }
  v += '\x48';  // data_retention_in_hours = 24
  v += '\x18';
  return v;
}

TEST(StreamStoreUpgrade, OpensPreviousVersionDataDir) {
  testing_support::TempDir dir;
  const auto path = (dir.path() / "index").string();
  {
    // The previous layout: only the "default" and "streams" families.
    rocksdb::DBOptions dbo;
    dbo.create_if_missing = true;
    dbo.create_missing_column_families = true;
    std::vector<rocksdb::ColumnFamilyDescriptor> families{
        {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()},
        {"streams", rocksdb::ColumnFamilyOptions()}};
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(dbo, path, families, &handles, &raw).ok());
    ASSERT_TRUE(raw->Put(rocksdb::WriteOptions(), handles[1], "old1", legacy_record("old1", false)).ok());
    ASSERT_TRUE(raw->Put(rocksdb::WriteOptions(), handles[1], "old2", legacy_record("old2", false)).ok());
    ASSERT_TRUE(raw->Put(rocksdb::WriteOptions(), handles[1], "dead", legacy_record("dead", true)).ok());
    for (auto* h : handles) raw->DestroyColumnFamilyHandle(h);
    delete raw;
  }
  std::uint64_t id1 = 0;
  for (int round = 0; round < 2; ++round) {
    auto db = Database::open(path);
    RocksDbStreamStore store(db, StreamStoreOptions{});
    auto old1 = store.describe({"old1", {}});
    ASSERT_TRUE(old1.has_value());
    EXPECT_EQ(old1->version, "v1");
    EXPECT_EQ(old1->data_retention_in_hours, 24);
    EXPECT_NE(old1->stream_id, 0u);
    if (round == 0) id1 = old1->stream_id;
    EXPECT_EQ(old1->stream_id, id1);  // assigned once, kept
    const auto old2 = store.describe({"old2", {}}).value();
    EXPECT_NE(old2.stream_id, old1->stream_id);
    EXPECT_EQ(store.describe({"dead", {}}).error().code, kvs::errc::resource_not_found);
    auto deleting = store.list_deleting();
    ASSERT_TRUE(deleting.has_value());
    ASSERT_EQ(deleting->size(), 1u);
    EXPECT_EQ(deleting->front().stream_name, "dead");
    EXPECT_NE(deleting->front().stream_id, 0u);
    kvs::CreateStreamInput in;
    in.stream_name = "new" + std::to_string(round);
    const auto created = store.create(in).value();
    EXPECT_NE(created.stream_id, old1->stream_id);
    EXPECT_NE(created.stream_id, old2.stream_id);
    EXPECT_NE(created.stream_id, deleting->front().stream_id);
  }
}

}  // namespace
}  // namespace kvsd::storage
