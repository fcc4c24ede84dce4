#include "api/validation.hpp"

#include <gtest/gtest.h>

#include <string>

#include "api/control_plane.hpp"

namespace kvsd::api::validation {
namespace {

using nlohmann::json;

TEST(Validation, Names) {
  EXPECT_TRUE(is_stream_name("my-stream_1.a"));
  EXPECT_TRUE(is_stream_name(std::string(256, 'a')));
  EXPECT_FALSE(is_stream_name(std::string(257, 'a')));
  EXPECT_FALSE(is_stream_name(""));
  EXPECT_FALSE(is_stream_name("a b"));
  EXPECT_FALSE(is_stream_name("a/b"));
  EXPECT_TRUE(is_device_name(std::string(128, 'd')));
  EXPECT_FALSE(is_device_name(std::string(129, 'd')));
}

TEST(Validation, MediaType) {
  EXPECT_TRUE(is_media_type("video/h264"));
  EXPECT_TRUE(is_media_type("video/h264,audio/aac"));
  EXPECT_TRUE(is_media_type("video/x-matroska+v1.0"));
  EXPECT_FALSE(is_media_type("video"));
  EXPECT_FALSE(is_media_type("video/"));
  EXPECT_FALSE(is_media_type("/h264"));
  EXPECT_FALSE(is_media_type("video/h264,"));
  EXPECT_FALSE(is_media_type("video/h264 "));
  EXPECT_FALSE(is_media_type("a/b/c"));
}

TEST(Validation, Arn) {
  EXPECT_TRUE(is_resource_arn("arn:aws:kinesisvideo:us-west-2:123456789012:stream/s-1.x/1700000000000"));
  EXPECT_TRUE(is_resource_arn("arn:aws-cn:kinesisvideo:cn-north-1:1:channel/c/5"));
  EXPECT_FALSE(is_resource_arn("arn:aws:kinesis:us-west-2:1:stream/s/1"));
  EXPECT_FALSE(is_resource_arn("arn:aws:kinesisvideo:us-west-2:12a:stream/s/1"));
  EXPECT_FALSE(is_resource_arn("arn:aws:kinesisvideo:us-west-2:1:stream/s/"));
  EXPECT_FALSE(is_resource_arn("arn:aws:kinesisvideo:us-west-2:1:stream//1"));
  EXPECT_FALSE(is_resource_arn("arn:aws:kinesisvideo:us-west-2:1:Stream/s/1"));
  EXPECT_FALSE(is_resource_arn("arn:aws:kinesisvideo:us-west-2:1:stream/s/1x"));
  EXPECT_FALSE(is_resource_arn("arn:AWS:kinesisvideo:us-west-2:1:stream/s/1"));
}

TEST(Validation, VersionTokenTags) {
  EXPECT_TRUE(is_version("abcXYZ09"));
  EXPECT_FALSE(is_version("a-b"));
  EXPECT_FALSE(is_version(std::string(65, 'a')));
  EXPECT_TRUE(is_next_token(""));
  EXPECT_TRUE(is_next_token("YWJj+/=="));
  EXPECT_FALSE(is_next_token("a_b"));
  EXPECT_TRUE(is_tag_key("team name:x/y=z+@-_."));
  EXPECT_TRUE(is_tag_key("\xC3\xA9quipe"));  // équipe
  EXPECT_FALSE(is_tag_key(""));
  EXPECT_FALSE(is_tag_key("a\tb"));
  EXPECT_FALSE(is_tag_key("a#b"));
  EXPECT_FALSE(is_tag_key("\xC3"));  // truncated UTF-8
  std::string k128;
  for (int i = 0; i < 128; ++i) k128 += "\xC3\xA9";  // 128 characters, 256 bytes
  EXPECT_TRUE(is_tag_key(k128));
  EXPECT_FALSE(is_tag_key(k128 + "a"));
  EXPECT_TRUE(is_tag_value(""));
  EXPECT_FALSE(is_tag_value(std::string(257, 'v')));
}

TEST(Validation, ParseObject) {
  EXPECT_TRUE(parse_object("").has_value());
  EXPECT_TRUE(parse_object("{}").has_value());
  EXPECT_EQ(parse_object("[]").error().code, kvs::errc::serialization);
  EXPECT_EQ(parse_object("{").error().code, kvs::errc::serialization);
}

TEST(Validation, Fields) {
  const auto j = json::parse(R"({"S":"ok","N":5,"Big":1e3,"Neg":-1,"Null":null,"Num":"5"})");
  std::optional<std::string> s;
  EXPECT_FALSE(optional_string(j, "S", is_stream_name, "rule", s));
  EXPECT_EQ(s, "ok");
  EXPECT_FALSE(optional_string(j, "Null", is_stream_name, "rule", s));
  EXPECT_FALSE(s);
  EXPECT_TRUE(optional_string(j, "N", is_stream_name, "rule", s));
  std::string r;
  const auto missing = required_string(j, "Absent", is_stream_name, "rule", r);
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->code, kvs::errc::invalid_argument);
  EXPECT_NE(missing->message.find("Absent"), std::string::npos);
  std::optional<std::int64_t> n;
  EXPECT_FALSE(optional_int(j, "N", 1, 10, n));
  EXPECT_EQ(n, 5);
  EXPECT_TRUE(optional_int(j, "N", 6, 10, n));
  EXPECT_TRUE(optional_int(j, "Big", 0, 10000, n));  // not an integer
  EXPECT_TRUE(optional_int(j, "Neg", 0, 10, n));
  EXPECT_TRUE(optional_int(j, "Num", 0, 10, n));
}

TEST(Validation, StreamRefExactlyOne) {
  kvs::StreamRef ref;
  EXPECT_TRUE(stream_ref(json::object(), ref));
  EXPECT_FALSE(stream_ref(json{{"StreamName", "a"}}, ref));
  EXPECT_EQ(ref.name, "a");
  const std::string arn = "arn:aws:kinesisvideo:us-west-2:1:stream/a/1";
  EXPECT_FALSE(stream_ref(json{{"StreamARN", arn}}, ref));
  EXPECT_EQ(ref.arn, arn);
  EXPECT_TRUE(ref.name.empty());
  EXPECT_TRUE(stream_ref(json{{"StreamName", "a"}, {"StreamARN", arn}}, ref));
  EXPECT_TRUE(stream_ref(json{{"StreamName", "a b"}}, ref));
}

TEST(Validation, Tags) {
  kvs::Tags tags;
  EXPECT_FALSE(tag_map(json::object(), "Tags", false, tags));
  EXPECT_TRUE(tag_map(json::object(), "Tags", true, tags));
  EXPECT_TRUE(tag_map(json{{"Tags", json::object()}}, "Tags", false, tags));  // min 1
  json many = json::object();
  for (int i = 0; i < 51; ++i) many["k" + std::to_string(i)] = "v";
  EXPECT_TRUE(tag_map(json{{"Tags", many}}, "Tags", false, tags));
  EXPECT_FALSE(tag_map(json{{"Tags", {{"a", "1"}}}}, "Tags", false, tags));
  EXPECT_EQ(tags.at("a"), "1");
  EXPECT_TRUE(tag_map(json{{"Tags", {{"a", 1}}}}, "Tags", false, tags));

  EXPECT_FALSE(tag_list(json::parse(R"({"Tags":[{"Key":"a","Value":""}]})"), "Tags", tags));
  EXPECT_EQ(tags.at("a"), "");
  EXPECT_TRUE(tag_list(json::parse(R"({"Tags":[{"Key":"a"}]})"), "Tags", tags));
  EXPECT_TRUE(tag_list(json::parse(R"({"Tags":{"a":"b"}})"), "Tags", tags));

  std::vector<std::string> keys;
  EXPECT_FALSE(tag_keys(json::parse(R"({"K":["a","b"]})"), "K", keys));
  EXPECT_EQ(keys.size(), 2u);
  EXPECT_TRUE(tag_keys(json::parse(R"({"K":[]})"), "K", keys));
  EXPECT_TRUE(tag_keys(json::parse(R"({"K":[""]})"), "K", keys));
}

TEST(DataEndpoint, HostWithoutPortPlusListenerPort) {
  EXPECT_EQ(data_endpoint_for(false, "127.0.0.1:9999", "127.0.0.1", 8080), "http://127.0.0.1:8080");
  EXPECT_EQ(data_endpoint_for(true, "kvs.example.com", "10.0.0.1", 8443), "https://kvs.example.com:8443");
  EXPECT_EQ(data_endpoint_for(true, "[::1]:443", "::1", 8443), "https://[::1]:8443");
  EXPECT_EQ(data_endpoint_for(false, "", "::1", 80), "http://[::1]:80");
  EXPECT_EQ(data_endpoint_for(false, "", "10.1.2.3", 80), "http://10.1.2.3:80");
}

}  // namespace
}  // namespace kvsd::api::validation
