#include "http/aws_error.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace kvsd::http {
namespace {

TEST(AwsError, StatusesFollowTheKvsModel) {
  EXPECT_EQ(aws_shape(kvs::errc::resource_not_found).status, 404u);
  EXPECT_EQ(aws_shape(kvs::errc::resource_not_found).type, "ResourceNotFoundException");
  EXPECT_EQ(aws_shape(kvs::errc::invalid_argument).status, 400u);
  EXPECT_EQ(aws_shape(kvs::errc::not_authorized).status, 401u);
  EXPECT_EQ(aws_shape(kvs::errc::version_mismatch).type, "VersionMismatchException");
  EXPECT_EQ(aws_shape(kvs::errc::internal).status, 500u);
}

TEST(AwsError, ReadApiErrorsUseTheArchivedMediaNames) {
  EXPECT_EQ(aws_shape(kvs::errc::connection_limit_exceeded).type, "ConnectionLimitExceededException");
  EXPECT_EQ(aws_shape(kvs::errc::unsupported_media_type).type, "UnsupportedStreamMediaTypeException");
  EXPECT_EQ(aws_shape(kvs::errc::missing_codec_private_data).type, "MissingCodecPrivateDataException");
  EXPECT_EQ(aws_shape(kvs::errc::invalid_codec_private_data).type, "InvalidCodecPrivateDataException");
  EXPECT_EQ(aws_shape(kvs::errc::invalid_media_frame).type, "InvalidMediaFrameException");
  for (auto c :
       {kvs::errc::connection_limit_exceeded, kvs::errc::unsupported_media_type, kvs::errc::missing_codec_private_data,
        kvs::errc::invalid_codec_private_data, kvs::errc::invalid_media_frame})
    EXPECT_EQ(aws_shape(c).status, 400u);
}

TEST(AwsError, BodyHasTypeAndMessageAndEscapes) {
  auto body = aws_error_body("InvalidArgumentException", "bad \"name\"\n");
  auto j = nlohmann::json::parse(body);
  EXPECT_EQ(j["__type"], "InvalidArgumentException");
  EXPECT_EQ(j["message"], "bad \"name\"\n");
}

TEST(AwsError, InvalidUtf8InMessageStillYieldsJson) {
  auto body = aws_error_body("InvalidArgumentException", std::string("name \xff\xfe"));
  auto j = nlohmann::json::parse(body);  // throws if kvsd produced invalid JSON
  EXPECT_EQ(j["message"].get<std::string>().rfind("name ", 0), 0u);
}

}  // namespace
}  // namespace kvsd::http
