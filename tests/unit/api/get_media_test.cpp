// GetMedia without sockets: an SDK capture goes in through the PutMedia route (into the in-memory
// store), then the GetMedia route reads it back from EARLIEST. Checks what a consumer relies on:
// one chunk per stored fragment in fragment-number order, each carrying its fragment number, the
// Cluster bytes exactly as stored, a body the ingest parser (a KVS stream parser) reads back
// whole, and an end once the stream stays idle.

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "api/authenticated.hpp"
#include "api/live_feed.hpp"
#include "api/media_read.hpp"
#include "api/put_media.hpp"
#include "http/router.hpp"
#include "media/mkv_ingest_parser.hpp"
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

class Clusters final : public media::MkvIngestParser::Handler {
 public:
  void on_header(const media::StreamHeader&) override { ++headers; }
  void on_fragment_start(const media::FragmentStart&) override {}
  void on_fragment(media::Fragment&& f) override { clusters.push_back(std::move(f.cluster_bytes)); }
  int headers = 0;
  std::vector<std::vector<std::uint8_t>> clusters;
};

class GetMediaTest : public ::testing::Test {
 protected:
  GetMediaTest() {
    auth_.enabled = false;
    kvs::CreateStreamInput in;
    in.stream_name = "cam";
    in.data_retention_in_hours = 24;
    stream_id_ = streams_.create(in).value().stream_id;
    const auto now = [] { return std::int64_t{1'795'508'838'575}; };
    put_.auth = &auth_;
    put_.streams = &streams_;
    put_.fragments = &store_;
    put_.pool = &pool_;
    put_.stage_part_bytes = 0;
    put_.live = &live_;
    put_.now_ms = now;
    read_.auth = &auth_;
    read_.streams = &streams_;
    read_.fragments = &store_;
    read_.pool = &pool_;
    read_.live = &live_;
    read_.now_ms = now;
    read_.limits.get_media_idle = std::chrono::milliseconds(300);
    add_put_media_routes(router_, put_);
    add_media_read_routes(router_, read_);
  }
  ~GetMediaTest() override { pool_.join(); }

  // Runs one exchange of `path` to its end; false when it did not end within 20 s.
  bool exchange(const char* path, http::Headers headers, ScriptedBody& body, RecordingResponseWriter& w) {
    const http::Route* route = nullptr;
    EXPECT_EQ(router_.match("POST", path, &route), http::Router::Match::found) << path;
    if (route == nullptr) return false;
    http::Request req;
    req.method = "POST";
    req.path = path;
    req.target = path;
    req.headers = std::move(headers);
    req.body = &body;
    testing_support::ExchangeRun run(io_, route->handler, req, w);
    return run.run(std::chrono::seconds(20));
  }

  void ingest(const std::string& mkv) {
    ScriptedBody body(8192);
    body.bytes(mkv);
    RecordingResponseWriter w;
    ASSERT_TRUE(exchange("/putMedia",
                         http::Headers{{"x-amzn-stream-name", "cam"},
                                       {"x-amzn-fragment-timecode-type", "ABSOLUTE"},
                                       {"x-amzn-producer-start-timestamp", "1795508838.575"}},
                         body, w));
    ASSERT_EQ(w.recorded_status, 200u);
  }

  RecordingResponseWriter get_media(const std::string& json) {
    ScriptedBody body;
    body.bytes(json);
    body.declare_length(json.size());
    RecordingResponseWriter w;
    EXPECT_TRUE(exchange("/getMedia", http::Headers{{"content-type", "application/json"}}, body, w))
        << "GetMedia ends once the stream is idle";
    return w;
  }

  asio::io_context io_;
  asio::thread_pool pool_{1};
  AuthContext auth_;
  MemoryStreamStore streams_;
  MemoryFragmentStore store_;
  LiveFeed live_;
  PutMediaContext put_;
  MediaReadContext read_;
  http::Router router_;
  std::uint64_t stream_id_ = 0;
};

TEST_F(GetMediaTest, EarliestReturnsEveryStoredFragmentInOrderWithItsBytes) {
  ingest(testing_support::sdk_capture("audio-video-relative/04-putMedia-full.mkv"));
  const auto stored = store_.stored(stream_id_);
  ASSERT_GE(stored.size(), 3u);

  const auto w = get_media(R"({"StreamName":"cam","StartSelector":{"StartSelectorType":"EARLIEST"}})");
  EXPECT_EQ(w.recorded_status, 200u);
  EXPECT_EQ(w.recorded_headers.get("content-type").value_or(""), "video/webm");
  EXPECT_TRUE(w.recorded_finish);
  const std::string body = w.body();

  // The fragment numbers, in order, each once.
  std::size_t at = 0;
  for (const auto& r : stored) {
    const auto found = body.find(r.fragment_number, at);
    ASSERT_NE(found, std::string::npos) << "fragment " << r.fragment_number << " missing or out of order";
    at = found + r.fragment_number.size();
  }
  // A KVS stream parser reads it back: the same Clusters, byte for byte.
  Clusters out;
  media::MkvIngestParser parser(out);
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(body.data());
  ASSERT_FALSE(parser.feed(std::span<const std::uint8_t>(bytes, body.size())).has_value());
  ASSERT_FALSE(parser.finish().has_value());
  ASSERT_EQ(out.clusters.size(), stored.size());
  EXPECT_GE(out.headers, 1);
  for (std::size_t i = 0; i < stored.size(); ++i) {
    const auto expected = store_.read_cluster(stored[i]);
    ASSERT_TRUE(expected.has_value());
    EXPECT_EQ(out.clusters[i], expected.value()) << "fragment " << i;
  }
}

TEST_F(GetMediaTest, FragmentNumberSelectorStartsAfterThatFragment) {
  ingest(testing_support::sdk_capture("audio-video-relative/04-putMedia-full.mkv"));
  const auto stored = store_.stored(stream_id_);
  ASSERT_GE(stored.size(), 3u);
  const auto& third = stored[2].fragment_number;
  const auto w = get_media(R"({"StreamName":"cam","StartSelector":{"StartSelectorType":"FRAGMENT_NUMBER",)"
                           R"("AfterFragmentNumber":")" +
                           third + R"("}})");
  EXPECT_EQ(w.recorded_status, 200u);
  const std::string body = w.body();
  EXPECT_EQ(body.find(stored[0].fragment_number), std::string::npos);
  EXPECT_EQ(body.find(third), std::string::npos) << "AfterFragmentNumber is exclusive";
  if (stored.size() > 3) {
    EXPECT_NE(body.find(stored[3].fragment_number), std::string::npos);
  }
}

TEST_F(GetMediaTest, UnknownStreamIs404AndABadSelectorIs400) {
  const auto missing = get_media(R"({"StreamName":"nope","StartSelector":{"StartSelectorType":"EARLIEST"}})");
  EXPECT_EQ(missing.recorded_status, 404u);
  const auto bad = get_media(R"({"StreamName":"cam","StartSelector":{"StartSelectorType":"SOMETIME"}})");
  EXPECT_EQ(bad.recorded_status, 400u);
}

}  // namespace
}  // namespace kvsd::api
