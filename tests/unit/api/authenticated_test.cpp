#include "api/authenticated.hpp"

#include <gtest/gtest.h>

#include "auth/crypto.hpp"

namespace kvsd::api {
namespace {

http::Request make_request(http::Protocol protocol) {
  http::Request r;
  r.method = "POST";
  r.target = "/describeStream?a=1";
  http::split_target(r.target, r.path, r.query);
  r.authority = "kvs.example:8443";
  r.protocol = protocol;
  r.headers.add("X-Amz-Date", "20260101T000000Z");
  return r;
}

TEST(Authenticated, Http1UsesTheReceivedHeadersAsIs) {
  auto req = make_request(http::Protocol::http1_1);
  req.headers.add("Host", "kvs.example:8443");
  const auto s = to_signed_request(req, std::string(auth::kEmptySha256Hex));
  EXPECT_EQ(s.method, "POST");
  EXPECT_EQ(s.path, "/describeStream");
  EXPECT_EQ(s.query, "a=1");
  EXPECT_FALSE(s.http2);
  EXPECT_EQ(s.headers.size(), 2u);
  EXPECT_EQ(s.payload_sha256_hex, auth::kEmptySha256Hex);
}

TEST(Authenticated, Http2AddsHostFromAuthority) {
  const auto req = make_request(http::Protocol::http2);
  const auto s = to_signed_request(req, "abc");
  EXPECT_TRUE(s.http2);
  ASSERT_EQ(s.headers.size(), 2u);
  EXPECT_EQ(s.headers.back().first, "host");
  EXPECT_EQ(s.headers.back().second, "kvs.example:8443");
}

TEST(Authenticated, Http2KeepsAnExplicitHost) {
  auto req = make_request(http::Protocol::http2);
  req.headers.add("host", "other:1");
  const auto s = to_signed_request(req, "abc");
  EXPECT_EQ(s.headers.size(), 2u);
}

}  // namespace
}  // namespace kvsd::api
