#include "api/put_media_request.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace kvsd::api {
namespace {

http::Headers sdk_headers() {
  return http::Headers{{"x-amzn-stream-name", "cam-1"},
                       {"x-amzn-fragment-timecode-type", "ABSOLUTE"},
                       {"x-amzn-producer-start-timestamp", "1700000000.5"},
                       {"x-amzn-fragment-acknowledgment-required", "1"}};
}

TEST(PutMediaRequest, ParsesTheStockSdkHeaders) {
  PutMediaParams p;
  ASSERT_FALSE(parse_put_media_params(sdk_headers(), p));
  EXPECT_EQ(p.stream.name, "cam-1");
  EXPECT_TRUE(p.stream.arn.empty());
  EXPECT_EQ(p.timecode_type, TimecodeType::absolute);
  ASSERT_TRUE(p.producer_start_ms);
  EXPECT_EQ(*p.producer_start_ms, 1700000000005);  // unpadded millis: ".5" is 5 ms
  EXPECT_TRUE(p.ack_required);
}

TEST(PutMediaRequest, ProducerStartTimestampForms) {
  EXPECT_EQ(parse_producer_start_timestamp("537.75"), 537075);
  EXPECT_EQ(parse_producer_start_timestamp("1700000000.500"), 1700000000500);
  EXPECT_EQ(parse_producer_start_timestamp("1700000000"), 1700000000000);
  EXPECT_EQ(parse_producer_start_timestamp("1700000000.123456"), 1700000000123);
  EXPECT_FALSE(parse_producer_start_timestamp(""));
  EXPECT_FALSE(parse_producer_start_timestamp("-1.5"));
  EXPECT_FALSE(parse_producer_start_timestamp("12a.5"));
  EXPECT_FALSE(parse_producer_start_timestamp("1.5.6"));
  EXPECT_FALSE(parse_producer_start_timestamp("1."));
}

TEST(PutMediaRequest, RejectsBadHeadersWithInvalidArgument) {
  auto expect_bad = [](http::Headers h, const char* mentions) {
    PutMediaParams p;
    auto e = parse_put_media_params(h, p);
    ASSERT_TRUE(e) << mentions;
    EXPECT_EQ(e->code, kvs::errc::invalid_argument);
    EXPECT_NE(e->message.find(mentions), std::string::npos) << e->message;
  };
  expect_bad(http::Headers{}, "x-amzn-stream-name");
  expect_bad(http::Headers{{"x-amzn-stream-name", "a"}, {"x-amzn-stream-arn", "b"}}, "exactly one");
  expect_bad(http::Headers{{"x-amzn-stream-name", "bad name"}}, "x-amzn-stream-name");
  expect_bad(http::Headers{{"x-amzn-stream-name", "a"}, {"x-amzn-fragment-timecode-type", "absolute"}},
             "timecode-type");
  expect_bad(http::Headers{{"x-amzn-stream-name", "a"}, {"x-amzn-fragment-timecode-type", "RELATIVE"}},
             "required with");
  expect_bad(http::Headers{{"x-amzn-stream-name", "a"}, {"x-amzn-producer-start-timestamp", "soon"}},
             "producer-start-timestamp");
  expect_bad(http::Headers{{"x-amzn-stream-name", "a"}, {"x-amzn-fragment-acknowledgment-required", "yes"}},
             "acknowledgment-required");
}

TEST(PutMediaRequest, AcceptsArnAndRelative) {
  PutMediaParams p;
  http::Headers h{{"x-amzn-stream-arn", "arn:aws:kinesisvideo:us-west-2:123456789012:stream/a/1"},
                  {"x-amzn-fragment-timecode-type", "RELATIVE"},
                  {"x-amzn-producer-start-timestamp", "10.0"},
                  {"x-amzn-fragment-acknowledgment-required", "0"}};
  ASSERT_FALSE(parse_put_media_params(h, p));
  EXPECT_TRUE(p.stream.name.empty());
  EXPECT_EQ(p.timecode_type, TimecodeType::relative);
  EXPECT_EQ(*p.producer_start_ms, 10000);
  EXPECT_FALSE(p.ack_required);
}

TEST(PutMediaRequest, AckWireFormatIsFlatWithExactKeys) {
  EXPECT_EQ(format_ack(Ack{AckType::buffering, 1726677688724, "91343852333181531502161607852955530730504675150", 0}),
            R"({"EventType":"BUFFERING","FragmentTimecode":1726677688724,)"
            R"("FragmentNumber":"91343852333181531502161607852955530730504675150"})"
            "\n");
  EXPECT_EQ(format_ack(Ack{AckType::idle, std::nullopt, {}, 0}), "{\"EventType\":\"IDLE\"}\n");
  const auto err = format_ack(Ack{AckType::error, 5080, "900000000000000000042", 4004});
  auto j = nlohmann::json::parse(err);
  EXPECT_EQ(j["EventType"], "ERROR");
  EXPECT_EQ(j["FragmentTimecode"], 5080);
  EXPECT_EQ(j["FragmentNumber"], "900000000000000000042");
  EXPECT_EQ(j["ErrorId"], 4004);
  for (auto t : {AckType::received, AckType::persisted}) {
    const auto s = format_ack(Ack{t, UINT64_MAX, std::string(128, '9'), 0});
    EXPECT_LT(s.size(), 1024u);
    EXPECT_EQ(s.back(), '\n');
  }
}

}  // namespace
}  // namespace kvsd::api
