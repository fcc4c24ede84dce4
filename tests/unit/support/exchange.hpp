#pragma once
// Test doubles for the exchange layer (http::Request / BodySource / ResponseWriter), so handlers
// and the dispatcher run in a unit test without sockets, on an io_context the test drives:
//  - ScriptedBody: a request body that follows a script of steps: bytes (handed out at most
//    `max_read` at a time, so a parser sees them split), an error, or a gate that holds the
//    body until a condition holds (e.g. until some ACKs were written). Every read yields to the
//    executor first, as a socket read would, so the handler's other coroutines run in between.
//  - RecordingResponseWriter: records the status, headers and every write (one event each),
//    and can fail the Nth write (like Beast's test::fail_count) to test what a handler does when
//    its client goes away.
//  - ExchangeRun: runs a route's handler on a strand of the test's io_context, step by step.
//  - sdk_capture(): the bytes of a stock SDK capture (tests/data/sdk-captures).
// All live on the test's thread; nothing here is thread-safe.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <exception>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/request.hpp"
#include "http/response_writer.hpp"
#include "http/router.hpp"

namespace kvsd::testing_support {

class ScriptedBody final : public http::BodySource {
 public:
  struct Step {
    std::string bytes;                // delivered in reads of at most max_read bytes
    boost::system::error_code error;  // when set: the read fails with it (and so do later ones)
    std::function<bool()> gate;       // when set: reads wait (polling) until it returns true
  };

  explicit ScriptedBody(std::size_t max_read = 64 * 1024) : max_read_(max_read) {}

  ScriptedBody& bytes(std::string_view data) {
    steps_.push_back(Step{std::string(data), {}, {}});
    return *this;
  }
  ScriptedBody& bytes(std::span<const std::uint8_t> data) {
    return bytes(std::string_view(reinterpret_cast<const char*>(data.data()), data.size()));
  }
  ScriptedBody& fail(boost::system::error_code ec) {
    steps_.push_back(Step{{}, ec, {}});
    return *this;
  }
  ScriptedBody& wait_until(std::function<bool()> condition) {
    steps_.push_back(Step{{}, {}, std::move(condition)});
    return *this;
  }

  boost::asio::awaitable<http::BodyRead> read_some(std::span<std::byte> buf) override {
    auto ex = co_await boost::asio::this_coro::executor;
    co_await boost::asio::post(ex, boost::asio::use_awaitable);  // a read never completes inline
    while (next_ < steps_.size()) {
      Step& step = steps_[next_];
      if (step.gate) {
        if (step.gate()) {
          ++next_;
          continue;
        }
        boost::asio::steady_timer t(ex, std::chrono::milliseconds(1));
        co_await t.async_wait(boost::asio::use_awaitable);
        continue;
      }
      if (step.error) co_return http::BodyRead{0, step.error};
      if (offset_ < step.bytes.size()) {
        const std::size_t n = std::min({buf.size(), max_read_, step.bytes.size() - offset_});
        std::memcpy(buf.data(), step.bytes.data() + offset_, n);
        offset_ += n;
        delivered_ += n;
        co_return http::BodyRead{n, {}};
      }
      ++next_;
      offset_ = 0;
    }
    co_return http::BodyRead{0, {}};
  }

  void set_deadline(std::chrono::steady_clock::time_point deadline) override { deadline_ = deadline; }
  [[nodiscard]] std::optional<std::uint64_t> declared_length() const override { return declared_; }

  void declare_length(std::optional<std::uint64_t> n) { declared_ = n; }
  [[nodiscard]] std::size_t delivered() const noexcept { return delivered_; }
  [[nodiscard]] bool ended() const noexcept { return next_ == steps_.size(); }
  [[nodiscard]] std::optional<std::chrono::steady_clock::time_point> deadline() const { return deadline_; }

 private:
  std::size_t max_read_;
  std::vector<Step> steps_;
  std::size_t next_ = 0;
  std::size_t offset_ = 0;
  std::size_t delivered_ = 0;
  std::optional<std::uint64_t> declared_;
  std::optional<std::chrono::steady_clock::time_point> deadline_;
};

class RecordingResponseWriter final : public http::ResponseWriter {
 public:
  // The write (counting from 1) that fails with `ec`, and every write after it; 0: none fails.
  void fail_write(std::size_t nth, boost::system::error_code ec = boost::asio::error::connection_reset) {
    fail_at_ = nth;
    fail_ec_ = ec;
  }

  unsigned recorded_status = 0;
  http::Headers recorded_headers;
  bool recorded_content_length = false;
  std::vector<std::string> writes;  // each write() (and each file write) as one event
  bool recorded_finish = false;
  std::size_t writes_separately = 0;  // calls of deliver_writes_separately()

  std::string body() const {
    std::string all;
    for (const auto& w : writes) all += w;
    return all;
  }

 protected:
  boost::asio::awaitable<boost::system::error_code> do_start(unsigned status, const http::Headers& headers,
                                                             bool has_content_length) override {
    recorded_status = status;
    recorded_headers = headers;
    recorded_content_length = has_content_length;
    co_return boost::system::error_code{};
  }
  boost::asio::awaitable<boost::system::error_code> do_write(std::string_view data) override {
    ++attempts_;
    if (fail_at_ != 0 && attempts_ >= fail_at_) co_return fail_ec_;
    writes.emplace_back(data);
    co_return boost::system::error_code{};
  }
  boost::asio::awaitable<boost::system::error_code> do_finish() override {
    recorded_finish = true;
    co_return boost::system::error_code{};
  }
  void do_deliver_writes_separately() override { ++writes_separately; }

 private:
  std::size_t attempts_ = 0;
  std::size_t fail_at_ = 0;
  boost::system::error_code fail_ec_;
};

// Runs `handler(req, w)` on a fresh strand of `io`; the test drives `io` through run().
// `req` and `w` must outlive the run.
class ExchangeRun {
 public:
  ExchangeRun(boost::asio::io_context& io, const http::Handler& handler, http::Request& req, http::ResponseWriter& w)
      : io_(io), done_(std::make_shared<bool>(false)) {
    boost::asio::co_spawn(boost::asio::make_strand(io_), handler(req, w), [done = done_](std::exception_ptr e) {
      *done = true;
      if (e) std::rethrow_exception(e);
    });
  }

  // Runs the io_context until the handler ended (true), `pause_when` holds, or `limit` passed.
  bool run(std::chrono::milliseconds limit, const std::function<bool()>& pause_when = {}) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (!*done_ && std::chrono::steady_clock::now() < until) {
      if (pause_when && pause_when()) return false;
      io_.restart();
      io_.run_for(std::chrono::milliseconds(5));
    }
    return *done_;
  }
  [[nodiscard]] bool done() const { return *done_; }

 private:
  boost::asio::io_context& io_;
  std::shared_ptr<bool> done_;
};

// The bytes of tests/data/sdk-captures/<relative> (empty when missing: the test's size checks fail).
inline std::string sdk_capture(const std::string& relative) {
  std::ifstream in(std::string(KVSD_TEST_DATA_DIR) + "/sdk-captures/" + relative, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace kvsd::testing_support
