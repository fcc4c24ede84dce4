#include "http/router.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace kvsd::http {
namespace {

Handler noop() {
  return [](Request&, ResponseWriter&) -> boost::asio::awaitable<void> { co_return; };
}

TEST(Router, MatchesExactMethodAndPath) {
  Router r;
  r.add("GET", "/healthz", "healthz", noop());
  r.add("POST", "/describeStream", "describeStream", noop());
  const Route* route = nullptr;
  EXPECT_EQ(r.match("GET", "/healthz", &route), Router::Match::found);
  EXPECT_EQ(route->name, "healthz");
  EXPECT_EQ(r.match("POST", "/describeStream", &route), Router::Match::found);
  EXPECT_EQ(route->name, "describeStream");
  EXPECT_EQ(r.match("POST", "/healthz", &route), Router::Match::wrong_method);
  EXPECT_EQ(r.match("GET", "/healthz/", &route), Router::Match::not_found);
  EXPECT_EQ(r.match("GET", "/HEALTHZ", &route), Router::Match::not_found);
}

TEST(Router, RejectsDuplicateRoute) {
  Router r;
  r.add("GET", "/a", "a", noop());
  EXPECT_THROW(r.add("GET", "/a", "a2", noop()), std::logic_error);
  EXPECT_NO_THROW(r.add("POST", "/a", "a3", noop()));
}

TEST(SplitTarget, SeparatesQuery) {
  std::string path, query;
  split_target("/hls/v1/getHLSMasterPlaylist.m3u8?SessionToken=abc&x=1", path, query);
  EXPECT_EQ(path, "/hls/v1/getHLSMasterPlaylist.m3u8");
  EXPECT_EQ(query, "SessionToken=abc&x=1");
  split_target("/putMedia", path, query);
  EXPECT_EQ(path, "/putMedia");
  EXPECT_EQ(query, "");
}

}  // namespace
}  // namespace kvsd::http
