#pragma once
// LiveFeed: the hand-over from PutMedia to GetMedia readers of the same stream. PutMedia reports
// each fragment when it starts (BUFFERING), when it is complete (RECEIVED) and when the store has
// settled it (durable or failed); a GetMedia reader subscribes to a stream and is given every
// fragment RECEIVED after it subscribed, at once, before the fragment is durable.
//
// Fragments RECEIVED but not yet settled are "in flight". A reader that reads history from the
// store first asks which fragments are in flight and waits until they settled, so that nothing
// received just before it subscribed is skipped (see get_media.cpp).
//
// Memory: fragment bytes are shared (not copied) and only kept for streams with subscribers; each
// subscription queues at most max_queued fragments, dropping the oldest beyond that and marking
// itself overflowed (the reader then catches up from the store).
//
// Thread-safety: every method may be called from any thread. A Subscription is woken through its
// own executor (the reader's strand); wait_until() must be called on that executor.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "exec/async_event.hpp"
#include "kvs/fragment_store.hpp"

namespace kvsd::api {

struct LiveFragment {
  kvs::FragmentRecord record;  // number, timestamps, duration, tracks; no storage location yet
  std::shared_ptr<const std::vector<std::uint8_t>> header;
  std::shared_ptr<const std::vector<std::uint8_t>> cluster;
};

class LiveFeed;

class LiveSubscription : public std::enable_shared_from_this<LiveSubscription> {
 public:
  using Clock = std::chrono::steady_clock;
  LiveSubscription(LiveFeed& feed, std::uint64_t stream_id, const boost::asio::any_io_executor& ex,
                   std::size_t max_queued);
  ~LiveSubscription();
  LiveSubscription(const LiveSubscription&) = delete;
  LiveSubscription& operator=(const LiveSubscription&) = delete;

  // Fragments received since the last take(), oldest first. `overflowed` is set when some were
  // dropped since the last call (and the flag is cleared).
  std::vector<std::shared_ptr<const LiveFragment>> take(bool& overflowed);
  // Fragment numbers of the stream that are in flight now.
  std::vector<std::string> in_flight() const;
  // True while any of `numbers` is still in flight.
  bool any_in_flight(const std::vector<std::string>& numbers) const;
  // When a fragment of the stream last started or completed (subscription time at first).
  Clock::time_point last_activity() const;
  // Waits until woken by feed activity or the deadline; true when woken. On the executor only.
  boost::asio::awaitable<bool> wait_until(Clock::time_point deadline) { return wake_.wait_until(deadline); }

 private:
  friend class LiveFeed;
  void notify();  // from any thread: wakes the waiter on its executor

  LiveFeed& feed_;
  const std::uint64_t stream_id_;
  const std::size_t max_queued_;
  boost::asio::any_io_executor executor_;
  exec::AsyncEvent wake_;
  // Guarded by feed_.mutex_.
  std::deque<std::shared_ptr<const LiveFragment>> queue_;
  bool overflowed_ = false;
  Clock::time_point last_activity_;
};

class LiveFeed {
 public:
  // A subscription to `stream_id` woken on `ex`, or nullptr when the stream already has
  // `max_per_stream` subscriptions (GetMedia's concurrency limit).
  std::shared_ptr<LiveSubscription> subscribe(std::uint64_t stream_id, const boost::asio::any_io_executor& ex,
                                              std::size_t max_per_stream, std::size_t max_queued = 16);

  // PutMedia side.
  void started(std::uint64_t stream_id);
  // The fragment is complete; `make` builds the shared fragment and is only called when the stream
  // has subscribers.
  template <class Make>
  void received(std::uint64_t stream_id, const std::string& fragment_number, Make&& make) {
    std::shared_ptr<const LiveFragment> fragment;
    if (has_subscribers(stream_id)) fragment = make();
    received_impl(stream_id, fragment_number, std::move(fragment));
  }
  void settled(std::uint64_t stream_id, const std::string& fragment_number);

  bool has_subscribers(std::uint64_t stream_id) const;
  std::size_t subscriber_count(std::uint64_t stream_id) const;

 private:
  friend class LiveSubscription;
  void received_impl(std::uint64_t stream_id, const std::string& fragment_number,
                     std::shared_ptr<const LiveFragment> fragment);
  void remove(LiveSubscription* sub);

  struct StreamState {
    std::vector<LiveSubscription*> subscribers;
    std::set<std::string> in_flight;
  };
  mutable std::mutex mutex_;
  std::map<std::uint64_t, StreamState> streams_;
};

}  // namespace kvsd::api
