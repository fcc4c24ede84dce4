// PutMedia's handler without sockets: the route from add_put_media_routes runs on a strand of a
// test io_context with a scripted body (an SDK capture, split into small reads), a recording
// response writer and in-memory stores. Checks the ACK contract: per fragment BUFFERING, then
// RECEIVED, then PERSISTED in fragment order; PERSISTED only once the store said so; exactly one
// PERSISTED or ERROR for every RECEIVED; the response ends after the last ACK.

#include "api/put_media.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "api/authenticated.hpp"
#include "http/router.hpp"
#include "support/exchange.hpp"
#include "support/memory_fragment_store.hpp"
#include "support/memory_stream_store.hpp"

namespace kvsd::api {
namespace {

namespace asio = boost::asio;
using testing_support::MemoryFragmentStore;
using testing_support::MemoryStreamStore;
using testing_support::RecordingResponseWriter;
using testing_support::ScriptedBody;

struct AckEvent {
  std::string type;
  std::string fragment_number;
  std::int64_t timecode = -1;
  int error_id = 0;
};

std::vector<AckEvent> parse_acks(const RecordingResponseWriter& w) {
  std::vector<AckEvent> out;
  for (const auto& write : w.writes) {
    const auto j = nlohmann::json::parse(write);  // one ACK per write
    AckEvent e;
    e.type = j.at("EventType").get<std::string>();
    if (j.contains("FragmentNumber")) e.fragment_number = j["FragmentNumber"].get<std::string>();
    if (j.contains("FragmentTimecode")) e.timecode = j["FragmentTimecode"].get<std::int64_t>();
    if (j.contains("ErrorId")) e.error_id = j["ErrorId"].get<int>();
    out.push_back(e);
  }
  return out;
}

std::size_t count(const std::vector<AckEvent>& acks, const std::string& type) {
  return static_cast<std::size_t>(
      std::count_if(acks.begin(), acks.end(), [&](const auto& a) { return a.type == type; }));
}

class PutMediaTest : public ::testing::Test {
 protected:
  PutMediaTest() {
    auth_.enabled = false;
    kvs::CreateStreamInput in;
    in.stream_name = "cam";
    in.data_retention_in_hours = 24;
    stream_id_ = streams_.create(in).value().stream_id;
    ctx_.auth = &auth_;
    ctx_.streams = &streams_;
    ctx_.fragments = &store_;
    ctx_.pool = &pool_;
    ctx_.stage_part_bytes = 0;  // the memory store does not stage
    ctx_.now_ms = [] { return std::int64_t{1'795'508'838'575}; };
    add_put_media_routes(router_, ctx_);
    const http::Route* route = nullptr;
    EXPECT_EQ(router_.match("POST", "/putMedia", &route), http::Router::Match::found);
    route_ = route;
  }
  ~PutMediaTest() override { pool_.join(); }

  // Runs the handler to its end (or until `limit`); returns true when it ended.
  bool run(ScriptedBody& body, RecordingResponseWriter& writer, std::chrono::seconds limit = std::chrono::seconds(20),
           const std::function<bool()>& pause_when = {}) {
    req_.method = "POST";
    req_.path = "/putMedia";
    req_.target = "/putMedia";
    req_.headers = http::Headers{{"x-amzn-stream-name", "cam"},
                                 {"x-amzn-fragment-timecode-type", "ABSOLUTE"},
                                 {"x-amzn-producer-start-timestamp", "1795508838.575"},
                                 {"x-amzn-fragment-acknowledgment-required", "1"}};
    req_.body = &body;
    req_.request_id = "test";
    run_.emplace(io_, route_->handler, req_, writer);
    return resume(limit, pause_when);
  }

  // Runs the io_context until the handler ended, `pause_when` holds, or `limit` passed.
  bool resume(std::chrono::seconds limit, const std::function<bool()>& pause_when = {}) {
    return run_->run(limit, pause_when);
  }

  asio::io_context io_;
  asio::thread_pool pool_{1};
  AuthContext auth_;
  MemoryStreamStore streams_;
  MemoryFragmentStore store_;
  PutMediaContext ctx_;
  http::Router router_;
  const http::Route* route_ = nullptr;
  http::Request req_;
  std::uint64_t stream_id_ = 0;
  std::optional<testing_support::ExchangeRun> run_;
};

// Every fragment's ACKs in the order of the contract, and the response ends after the last one.
TEST_F(PutMediaTest, EachFragmentIsBufferingThenReceivedThenPersistedInOrder) {
  const std::string mkv = testing_support::sdk_capture("realtime-h264/04-putMedia-full.mkv");
  ASSERT_GT(mkv.size(), 100'000u);
  ScriptedBody body(997);  // reads split elements at odd places
  body.bytes(mkv);
  RecordingResponseWriter writer;
  ASSERT_TRUE(run(body, writer));
  EXPECT_EQ(writer.recorded_status, 200u);
  EXPECT_TRUE(writer.recorded_finish);
  EXPECT_EQ(writer.writes_separately, 1u) << "ACKs ask for one receive each";
  EXPECT_TRUE(body.ended());

  const auto acks = parse_acks(writer);
  const auto stored = store_.stored(stream_id_);
  ASSERT_GE(stored.size(), 5u);
  EXPECT_EQ(count(acks, "RECEIVED"), stored.size());
  EXPECT_EQ(count(acks, "PERSISTED"), stored.size());
  EXPECT_EQ(count(acks, "ERROR"), 0u);
  // Per fragment: BUFFERING < RECEIVED < PERSISTED; PERSISTED in fragment-number order.
  std::map<std::string, std::vector<std::string>> by_number;
  std::vector<std::string> persisted;
  for (const auto& a : acks) {
    if (a.type == "IDLE") continue;
    ASSERT_FALSE(a.fragment_number.empty()) << a.type;
    by_number[a.fragment_number].push_back(a.type);
    if (a.type == "PERSISTED") persisted.push_back(a.fragment_number);
  }
  for (const auto& [number, types] : by_number)
    EXPECT_EQ(types, (std::vector<std::string>{"BUFFERING", "RECEIVED", "PERSISTED"})) << number;
  EXPECT_TRUE(std::is_sorted(persisted.begin(), persisted.end()));
  for (std::size_t i = 0; i < stored.size(); ++i) EXPECT_EQ(persisted[i], stored[i].fragment_number);
}

// PERSISTED leaves only when the store reports the fragment durable, and the response does not
// end while a RECEIVED fragment still waits for it.
TEST_F(PutMediaTest, PersistedWaitsForTheStoreAndTheResponseWaitsForPersisted) {
  const std::string mkv = testing_support::sdk_capture("realtime-h264/04-putMedia-full.mkv");
  store_.hold_persists(true);
  ScriptedBody body(4096);
  body.bytes(mkv);
  RecordingResponseWriter writer;
  std::size_t received = 0;
  EXPECT_FALSE(run(body, writer, std::chrono::seconds(20), [&] {
    received = count(parse_acks(writer), "RECEIVED");
    return body.ended() && received >= store_.stored(stream_id_).size() && received >= 5;
  }));
  // Let the handler run on: it must not end, nor send a PERSISTED, while the store holds them.
  resume(std::chrono::seconds(1), [] { return false; });
  EXPECT_FALSE(run_->done()) << "the response ended before its fragments were durable";
  const auto before = parse_acks(writer);
  EXPECT_EQ(count(before, "PERSISTED"), 0u);
  EXPECT_FALSE(writer.recorded_finish);

  EXPECT_EQ(store_.release_held(), received);
  store_.hold_persists(false);
  ASSERT_TRUE(resume(std::chrono::seconds(20)));
  const auto after = parse_acks(writer);
  EXPECT_EQ(count(after, "PERSISTED"), received);
  EXPECT_TRUE(writer.recorded_finish);
}

// A fragment the store fails gets ERROR 5001; every fragment that was RECEIVED still gets exactly
// one PERSISTED or ERROR, and the response ends.
TEST_F(PutMediaTest, AFailedPersistIsError5001AndEveryReceivedFragmentIsAnswered) {
  const std::string mkv = testing_support::sdk_capture("realtime-h264/04-putMedia-full.mkv");
  store_.fail_next_persists(1, kvs::Error{kvs::errc::internal, "injected: fsync failed"});
  ScriptedBody body(8192);
  body.bytes(mkv);
  RecordingResponseWriter writer;
  ASSERT_TRUE(run(body, writer));
  EXPECT_TRUE(writer.recorded_finish);
  const auto acks = parse_acks(writer);
  std::map<std::string, int> answers;
  std::size_t received = 0;
  bool saw_5001 = false;
  for (const auto& a : acks) {
    if (a.type == "RECEIVED") ++received;
    if (a.type == "PERSISTED" || (a.type == "ERROR" && !a.fragment_number.empty())) ++answers[a.fragment_number];
    if (a.type == "ERROR" && a.error_id == 5001) saw_5001 = true;
  }
  EXPECT_TRUE(saw_5001);
  EXPECT_GE(received, 1u);
  EXPECT_EQ(answers.size(), received);
  for (const auto& [number, n] : answers) EXPECT_EQ(n, 1) << number;
}

// A client that goes away (writes fail) ends the upload: the handler returns, nothing hangs.
TEST_F(PutMediaTest, AClientThatGoesAwayEndsTheUpload) {
  const std::string mkv = testing_support::sdk_capture("realtime-h264/04-putMedia-full.mkv");
  ScriptedBody body(4096);
  body.bytes(mkv);
  RecordingResponseWriter writer;
  writer.fail_write(3);
  ASSERT_TRUE(run(body, writer));
  EXPECT_EQ(writer.writes.size(), 2u);
}

// A body that fails mid-upload (a reset) gets ERROR 4000 when nothing else went wrong first.
TEST_F(PutMediaTest, ABodyReadErrorIsError4000) {
  const std::string mkv = testing_support::sdk_capture("realtime-h264/04-putMedia-full.mkv");
  ScriptedBody body(4096);
  body.bytes(std::string_view(mkv).substr(0, mkv.size() / 2)).fail(asio::error::connection_reset);
  RecordingResponseWriter writer;
  ASSERT_TRUE(run(body, writer));
  const auto acks = parse_acks(writer);
  ASSERT_FALSE(acks.empty());
  bool saw_4000 = false;
  for (const auto& a : acks) saw_4000 = saw_4000 || (a.type == "ERROR" && a.error_id == 4000);
  EXPECT_TRUE(saw_4000);
  EXPECT_TRUE(writer.recorded_finish);
}

}  // namespace
}  // namespace kvsd::api
