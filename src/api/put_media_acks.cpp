#include "api/put_media_acks.hpp"

#include <optional>
#include <utility>

namespace kvsd::api {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

asio::awaitable<void> write_acks(std::shared_ptr<SessionState> st, http::ResponseWriter& w,
                                 std::chrono::milliseconds idle_interval) {
  // The stock SDK's ACK parser (PIC AckParser.c) takes the upload handle once per receive
  // callback and drops every ACK after the first that completes in the same callback.
  w.deliver_writes_separately();
  for (;;) {
    while (!st->acks.empty()) {
      auto next = std::move(st->acks.front());
      st->acks.pop_front();
      auto ec = co_await w.write(next);
      if (ec) {
        st->writer_failed = true;
        st->acks.clear();
        break;
      }
      st->last_activity = Clock::now();
    }
    if (st->writer_failed) break;
    if (st->closing && st->acks.empty()) {
      co_await w.finish();
      break;
    }
    const auto deadline = st->last_activity + idle_interval;
    const bool woken = co_await st->writer_wake.wait_until(deadline);
    if (!woken && !st->closing && Clock::now() >= st->last_activity + idle_interval) {
      st->acks.push_back(format_ack(Ack{AckType::idle, std::nullopt, {}, 0}));
    }
  }
  st->writer_done = true;
  st->reader_wake.notify();
}

}  // namespace kvsd::api
