#include <gtest/gtest.h>

#include <stdexcept>

#include "net/listener.hpp"

namespace kvsd::net {
namespace {

TEST(ParseEndpoint, AcceptsV4V6AndWildcards) {
  auto a = parse_endpoint("127.0.0.1:8080");
  EXPECT_EQ(a.address().to_string(), "127.0.0.1");
  EXPECT_EQ(a.port(), 8080);
  auto b = parse_endpoint("[::1]:0");
  EXPECT_TRUE(b.address().is_v6());
  EXPECT_EQ(b.port(), 0);
  EXPECT_EQ(parse_endpoint(":9000").address().to_string(), "0.0.0.0");
  EXPECT_EQ(parse_endpoint("localhost:1").address().to_string(), "127.0.0.1");
}

TEST(ParseEndpoint, RejectsGarbage) {
  EXPECT_THROW(parse_endpoint("8080"), std::invalid_argument);
  EXPECT_THROW(parse_endpoint("127.0.0.1:99999"), std::invalid_argument);
  EXPECT_THROW(parse_endpoint("127.0.0.1:abc"), std::invalid_argument);
  EXPECT_THROW(parse_endpoint("example.com:80"), std::invalid_argument);
  EXPECT_THROW(parse_endpoint("[::1:80"), std::invalid_argument);
}

}  // namespace
}  // namespace kvsd::net
