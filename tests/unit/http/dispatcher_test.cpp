// The Dispatcher without sockets (tests/unit/support/exchange.hpp): request ids, CORS preflight
// and headers, routing by exact method and path (404 / 405 in the AWS shape), a handler that
// throws or returns without answering gets a 500, one that leaves its response open is ended,
// and every exchange is counted in the request metrics.

#include "http/dispatcher.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "http/router.hpp"
#include "obs/http_metrics.hpp"
#include "obs/metrics.hpp"
#include "support/exchange.hpp"

namespace kvsd::http {
namespace {

namespace asio = boost::asio;
using testing_support::RecordingResponseWriter;
using testing_support::ScriptedBody;

class DispatcherTest : public ::testing::Test {
 protected:
  DispatcherTest() {
    router_.add("GET", "/ok", "ok", answer_ok);
    router_.add("POST", "/throws", "throws", throw_first);
    router_.add("POST", "/silent", "silent", answer_nothing);
    router_.add("POST", "/open", "open", leave_open);
    router_.add("POST", "/late-throw", "late_throw", throw_after_start);
  }

  static asio::awaitable<void> answer_ok(Request&, ResponseWriter& w) {
    // Headers built before the co_await: g++ 12 cannot keep an initializer list of string
    // literals alive across one (the code base's handlers do the same).
    Headers h{{"content-type", "text/plain"}};
    co_await w.send(200, std::move(h), std::string("fine"));
  }
  static asio::awaitable<void> throw_first(Request&, ResponseWriter&) {
    throw std::runtime_error("boom");
    co_return;
  }
  static asio::awaitable<void> answer_nothing(Request&, ResponseWriter&) { co_return; }
  static asio::awaitable<void> leave_open(Request&, ResponseWriter& w) {
    Headers h{{"content-type", "application/json"}};
    co_await w.start(200, std::move(h));
    co_await w.write(std::string_view("{\"EventType\":\"IDLE\"}"));
  }
  static asio::awaitable<void> throw_after_start(Request&, ResponseWriter& w) {
    co_await w.start(200, Headers{});
    throw std::runtime_error("after the head");
  }

  RecordingResponseWriter run(const std::string& method, const std::string& path, Headers headers = {}) {
    Request req;
    req.method = method;
    req.path = path;
    req.target = path;
    req.headers = std::move(headers);
    req.body = &body_;
    RecordingResponseWriter w;
    asio::io_context io;
    asio::co_spawn(io, dispatcher_.dispatch(req, w), asio::detached);
    io.run();
    last_request_id_ = req.request_id;
    return w;
  }

  static std::string error_type(const RecordingResponseWriter& w) {
    const auto t = w.recorded_headers.get("x-amzn-ErrorType");
    EXPECT_TRUE(t.has_value());
    const auto body = nlohmann::json::parse(w.body());
    EXPECT_EQ(body.at("__type").get<std::string>(), t.value_or(""));
    return std::string(t.value_or(""));
  }

  obs::Registry registry_;
  obs::HttpMetrics metrics_{registry_};
  Router router_;
  Dispatcher dispatcher_{router_, metrics_, false};
  ScriptedBody body_;
  std::string last_request_id_;
};

TEST_F(DispatcherTest, ARouteAnswersWithARequestIdOnEveryResponse) {
  const auto w = run("GET", "/ok");
  EXPECT_EQ(w.recorded_status, 200u);
  EXPECT_EQ(w.body(), "fine");
  EXPECT_TRUE(w.recorded_finish);
  ASSERT_FALSE(last_request_id_.empty());
  EXPECT_EQ(w.recorded_headers.get("x-amzn-RequestId").value_or(""), last_request_id_);
  const auto first = last_request_id_;
  (void)run("GET", "/ok");
  EXPECT_NE(last_request_id_, first) << "every exchange gets its own id";
}

TEST_F(DispatcherTest, UnknownPathsAndMethodsGetTheAwsErrors) {
  const auto missing = run("POST", "/nowhere");
  EXPECT_EQ(missing.recorded_status, 404u);
  EXPECT_EQ(error_type(missing), "UnknownOperationException");
  const auto wrong = run("POST", "/ok");
  EXPECT_EQ(wrong.recorded_status, 405u);
  EXPECT_EQ(error_type(wrong), "MethodNotAllowedException");
  const auto path_case = run("GET", "/OK");
  EXPECT_EQ(path_case.recorded_status, 404u) << "paths match exactly";
}

TEST_F(DispatcherTest, AHandlerThatThrowsOrDoesNotAnswerGetsA500) {
  const auto threw = run("POST", "/throws");
  EXPECT_EQ(threw.recorded_status, 500u);
  EXPECT_EQ(error_type(threw), "InternalFailure");
  EXPECT_NE(threw.body().find(last_request_id_), std::string::npos) << "the 500 names the request";
  EXPECT_EQ(threw.body().find("boom"), std::string::npos) << "the exception text stays in the log";
  const auto silent = run("POST", "/silent");
  EXPECT_EQ(silent.recorded_status, 500u);
  EXPECT_EQ(error_type(silent), "InternalFailure");
}

TEST_F(DispatcherTest, AResponseLeftOpenIsEndedAndALateEscapeKeepsTheStartedResponse) {
  const auto open = run("POST", "/open");
  EXPECT_EQ(open.recorded_status, 200u);
  EXPECT_EQ(open.writes.size(), 1u);
  EXPECT_TRUE(open.recorded_finish);
  const auto late = run("POST", "/late-throw");
  EXPECT_EQ(late.recorded_status, 200u) << "a started response cannot become a 500";
  EXPECT_TRUE(late.recorded_finish);
}

TEST_F(DispatcherTest, CorsPreflightAndCorsHeaders) {
  const auto pre = run("OPTIONS", "/ok",
                       Headers{{"Origin", "https://console.example"},
                               {"Access-Control-Request-Method", "POST"},
                               {"Access-Control-Request-Headers", "authorization,x-amz-date"}});
  EXPECT_EQ(pre.recorded_status, 204u);
  EXPECT_EQ(pre.recorded_headers.get("access-control-allow-origin").value_or(""), "https://console.example");
  EXPECT_EQ(pre.recorded_headers.get("access-control-allow-headers").value_or(""), "authorization,x-amz-date");
  EXPECT_TRUE(pre.recorded_headers.contains("access-control-allow-methods"));
  const auto with_origin = run("GET", "/ok", Headers{{"Origin", "https://console.example"}});
  EXPECT_EQ(with_origin.recorded_headers.get("access-control-allow-origin").value_or(""), "https://console.example");
  EXPECT_TRUE(with_origin.recorded_headers.contains("access-control-expose-headers"));
  const auto without = run("GET", "/ok");
  EXPECT_FALSE(without.recorded_headers.contains("access-control-allow-origin"));
  // OPTIONS without the preflight headers is an ordinary request.
  EXPECT_EQ(run("OPTIONS", "/ok").recorded_status, 405u);
}

TEST_F(DispatcherTest, EveryExchangeIsCountedByRouteAndStatus) {
  (void)run("GET", "/ok");
  (void)run("POST", "/nowhere");
  (void)run("POST", "/throws");
  const std::string text = registry_.render();
  EXPECT_NE(text.find("route=\"ok\""), std::string::npos) << text;
  EXPECT_NE(text.find("route=\"unmatched\""), std::string::npos) << text;
  EXPECT_NE(text.find("route=\"throws\""), std::string::npos) << text;
  EXPECT_NE(text.find("status=\"500\""), std::string::npos) << text;
}

}  // namespace
}  // namespace kvsd::http
