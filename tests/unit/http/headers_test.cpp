#include "http/headers.hpp"

#include <gtest/gtest.h>

namespace kvsd::http {
namespace {

TEST(Headers, LookupIsCaseInsensitiveAndKeepsCase) {
  Headers h;
  h.add("X-Amz-Date", "20261124T000000Z");
  EXPECT_EQ(h.get("x-amz-date").value(), "20261124T000000Z");
  EXPECT_EQ(h.begin()->first, "X-Amz-Date");
  EXPECT_FALSE(h.get("x-amz-dat").has_value());
}

TEST(Headers, SetReplacesEveryFieldOfThatName) {
  Headers h{{"a", "1"}, {"A", "2"}, {"b", "3"}};
  h.set("a", "4");
  EXPECT_EQ(h.size(), 2u);
  EXPECT_EQ(h.get("A").value(), "4");
  h.erase("B");
  EXPECT_EQ(h.size(), 1u);
}

TEST(Headers, Iequals) {
  EXPECT_TRUE(iequals("Content-Length", "content-length"));
  EXPECT_FALSE(iequals("content-length", "content-lengt"));
  EXPECT_EQ(to_lower("X-Amzn-ErrorType"), "x-amzn-errortype");
}

}  // namespace
}  // namespace kvsd::http
