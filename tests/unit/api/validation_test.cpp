#include "api/validation.hpp"

#include <gtest/gtest.h>

#include <optional>
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

TEST(Validation, DestinationPatterns) {
  EXPECT_TRUE(is_destination_uri("s3://bucket/prefix/x"));
  EXPECT_TRUE(is_destination_uri("arn:aws:sns:us-west-2:123456789012:topic"));
  EXPECT_TRUE(is_destination_uri("s3://bucket"));
  EXPECT_TRUE(is_destination_uri("x:a*b/c"));  // '*' only before the first '/'
  EXPECT_TRUE(is_destination_uri("x:" + std::string(253, 'a')));
  EXPECT_FALSE(is_destination_uri("x:" + std::string(254, 'a')));
  EXPECT_FALSE(is_destination_uri(""));
  EXPECT_FALSE(is_destination_uri("bucket"));
  EXPECT_FALSE(is_destination_uri(":x"));
  EXPECT_FALSE(is_destination_uri("s-3://bucket"));
  EXPECT_FALSE(is_destination_uri("s3://"));
  EXPECT_FALSE(is_destination_uri("s3:///x"));
  EXPECT_FALSE(is_destination_uri("s3:/x"));
  EXPECT_FALSE(is_destination_uri("s3://bucket/a*"));

  EXPECT_TRUE(is_destination_region("us-west-2"));
  EXPECT_TRUE(is_destination_region("us-gov-west-1"));
  EXPECT_TRUE(is_destination_region("ap-southeast-1"));
  EXPECT_FALSE(is_destination_region("eu-west-10"));
  EXPECT_FALSE(is_destination_region("us-west"));
  EXPECT_FALSE(is_destination_region("US-west-2"));
  EXPECT_FALSE(is_destination_region("a-b-1"));  // shorter than 9
  EXPECT_FALSE(is_destination_region("us-gov-west-east-1"));
  EXPECT_FALSE(is_destination_region("us--west-2"));

  EXPECT_TRUE(is_jpeg_quality("1"));
  EXPECT_TRUE(is_jpeg_quality("100"));
  EXPECT_FALSE(is_jpeg_quality("0"));
  EXPECT_FALSE(is_jpeg_quality("101"));
  EXPECT_FALSE(is_jpeg_quality("8a"));
  EXPECT_FALSE(is_jpeg_quality(""));
}

json sample_image_json() {
  return json::parse(R"({"ImageGenerationConfiguration":{
    "Status":"ENABLED","ImageSelectorType":"SERVER_TIMESTAMP",
    "DestinationConfig":{"Uri":"s3://b/p","DestinationRegion":"us-east-1"},
    "SamplingInterval":20000,"Format":"JPEG","FormatConfig":{"JPEGQuality":"90"},
    "WidthPixels":3840,"HeightPixels":2160}})");
}

// The error message for `j` with `pointer` replaced by `value` (null: removed).
std::string image_error(const std::string& pointer, const json& value) {
  auto j = sample_image_json();
  const json::json_pointer p("/ImageGenerationConfiguration" + pointer);
  if (value.is_null())
    j[p.parent_pointer()].erase(p.back());
  else
    j[p] = value;
  std::optional<kvs::ImageGenerationConfiguration> out;
  auto e = image_generation_configuration(j, "ImageGenerationConfiguration", out);
  if (!e) return "accepted";
  EXPECT_EQ(e->code, kvs::errc::invalid_argument);
  EXPECT_FALSE(out.has_value());
  return e->message;
}

TEST(Validation, ImageGenerationConfiguration) {
  std::optional<kvs::ImageGenerationConfiguration> out;
  ASSERT_FALSE(image_generation_configuration(sample_image_json(), "ImageGenerationConfiguration", out));
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->status, "ENABLED");
  EXPECT_EQ(out->image_selector_type, "SERVER_TIMESTAMP");
  EXPECT_EQ(out->destination_uri, "s3://b/p");
  EXPECT_EQ(out->destination_region, "us-east-1");
  EXPECT_EQ(out->sampling_interval_ms, 20000);
  EXPECT_EQ(out->format, "JPEG");
  EXPECT_EQ(out->format_config.at("JPEGQuality"), "90");
  EXPECT_EQ(out->width_pixels, 3840);
  EXPECT_EQ(out->height_pixels, 2160);

  // Absent or null: no configuration (removal).
  EXPECT_FALSE(image_generation_configuration(json::object(), "ImageGenerationConfiguration", out));
  EXPECT_FALSE(out.has_value());
  EXPECT_FALSE(image_generation_configuration(json::parse(R"({"ImageGenerationConfiguration":null})"),
                                              "ImageGenerationConfiguration", out));
  EXPECT_FALSE(out.has_value());
  EXPECT_TRUE(image_generation_configuration(json::parse(R"({"ImageGenerationConfiguration":[]})"),
                                             "ImageGenerationConfiguration", out));

  // Optional members.
  EXPECT_EQ(image_error("/FormatConfig", nullptr), "accepted");
  EXPECT_EQ(image_error("/WidthPixels", nullptr), "accepted");
  EXPECT_EQ(image_error("/HeightPixels", nullptr), "accepted");
  EXPECT_EQ(image_error("/Format", "PNG"), "accepted");
  EXPECT_EQ(image_error("/SamplingInterval", 3000), "accepted");
  EXPECT_EQ(image_error("/ImageSelectorType", "PRODUCER_TIMESTAMP"), "accepted");
  EXPECT_EQ(image_error("/Status", "DISABLED"), "accepted");

  const auto has = [](const std::string& message, const std::string& field) {
    return message.rfind("ImageGenerationConfiguration." + field, 0) == 0;
  };
  EXPECT_PRED2(has, image_error("/Status", "enabled"), "Status");
  EXPECT_PRED2(has, image_error("/Status", nullptr), "Status is required");
  EXPECT_PRED2(has, image_error("/ImageSelectorType", "NOW"), "ImageSelectorType");
  EXPECT_PRED2(has, image_error("/ImageSelectorType", nullptr), "ImageSelectorType is required");
  EXPECT_PRED2(has, image_error("/DestinationConfig", nullptr), "DestinationConfig is required");
  EXPECT_PRED2(has, image_error("/DestinationConfig", "s3://b"), "DestinationConfig must be a structure");
  EXPECT_PRED2(has, image_error("/DestinationConfig/Uri", "nope"), "DestinationConfig.Uri");
  EXPECT_PRED2(has, image_error("/DestinationConfig/Uri", nullptr), "DestinationConfig.Uri is required");
  EXPECT_PRED2(has, image_error("/DestinationConfig/DestinationRegion", "mars"), "DestinationConfig.DestinationRegion");
  EXPECT_PRED2(has, image_error("/DestinationConfig/DestinationRegion", nullptr),
               "DestinationConfig.DestinationRegion is required");
  EXPECT_PRED2(has, image_error("/SamplingInterval", 2999), "SamplingInterval");
  EXPECT_PRED2(has, image_error("/SamplingInterval", 20001), "SamplingInterval");
  EXPECT_PRED2(has, image_error("/SamplingInterval", "3000"), "SamplingInterval");
  EXPECT_PRED2(has, image_error("/SamplingInterval", nullptr), "SamplingInterval is required");
  EXPECT_PRED2(has, image_error("/Format", "BMP"), "Format");
  EXPECT_PRED2(has, image_error("/Format", nullptr), "Format is required");
  EXPECT_PRED2(has, image_error("/FormatConfig", json::object()), "FormatConfig");
  EXPECT_PRED2(has, image_error("/FormatConfig", json::parse(R"({"JPEGQuality":"1","X":"2"})")), "FormatConfig");
  EXPECT_PRED2(has, image_error("/FormatConfig", json::parse(R"({"Quality":"80"})")), "FormatConfig");
  EXPECT_PRED2(has, image_error("/FormatConfig", json::parse(R"({"JPEGQuality":80})")), "FormatConfig");
  EXPECT_PRED2(has, image_error("/FormatConfig", json::parse(R"({"JPEGQuality":"0"})")), "FormatConfig");
  EXPECT_PRED2(has, image_error("/FormatConfig", json::parse(R"({"JPEGQuality":"101"})")), "FormatConfig");
  EXPECT_PRED2(has, image_error("/WidthPixels", 0), "WidthPixels");
  EXPECT_PRED2(has, image_error("/WidthPixels", 3841), "WidthPixels");
  EXPECT_PRED2(has, image_error("/HeightPixels", 0), "HeightPixels");
  EXPECT_PRED2(has, image_error("/HeightPixels", 2161), "HeightPixels");
  EXPECT_PRED2(has, image_error("/HeightPixels", 1.5), "HeightPixels");
}

TEST(Validation, NotificationConfiguration) {
  std::optional<kvs::NotificationConfiguration> out;
  ASSERT_FALSE(notification_configuration(
      json::parse(R"({"N":{"Status":"DISABLED","DestinationConfig":{"Uri":"arn:aws:sns:us-west-2:1:t"}}})"), "N", out));
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->status, "DISABLED");
  EXPECT_EQ(out->destination_uri, "arn:aws:sns:us-west-2:1:t");
  EXPECT_FALSE(notification_configuration(json::object(), "N", out));
  EXPECT_FALSE(out.has_value());

  const auto message = [&out](const char* body) {
    auto e = notification_configuration(json::parse(body), "N", out);
    return e ? e->message : std::string("accepted");
  };
  EXPECT_EQ(message(R"({"N":{"Status":"ON","DestinationConfig":{"Uri":"a:b"}}})").rfind("N.Status", 0), 0u);
  EXPECT_EQ(message(R"({"N":{"DestinationConfig":{"Uri":"a:b"}}})"), "N.Status is required");
  EXPECT_EQ(message(R"({"N":{"Status":"ENABLED"}})"), "N.DestinationConfig is required");
  EXPECT_EQ(message(R"({"N":{"Status":"ENABLED","DestinationConfig":{}}})"), "N.DestinationConfig.Uri is required");
  EXPECT_EQ(
      message(R"({"N":{"Status":"ENABLED","DestinationConfig":{"Uri":"ab"}}})").rfind("N.DestinationConfig.Uri", 0),
      0u);
  EXPECT_EQ(message(R"({"N":"x"})"), "N must be a structure");
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
