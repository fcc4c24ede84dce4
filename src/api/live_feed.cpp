#include "api/live_feed.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>

namespace kvsd::api {

LiveSubscription::LiveSubscription(LiveFeed& feed, std::uint64_t stream_id, const boost::asio::any_io_executor& ex,
                                   std::size_t max_queued)
    : feed_(feed),
      stream_id_(stream_id),
      max_queued_(std::max<std::size_t>(1, max_queued)),
      executor_(ex),
      wake_(ex),
      last_activity_(Clock::now()) {}

LiveSubscription::~LiveSubscription() { feed_.remove(this); }

std::vector<std::shared_ptr<const LiveFragment>> LiveSubscription::take(bool& overflowed) {
  std::lock_guard lock(feed_.mutex_);
  std::vector<std::shared_ptr<const LiveFragment>> out(queue_.begin(), queue_.end());
  queue_.clear();
  overflowed = overflowed_;
  overflowed_ = false;
  return out;
}

std::vector<std::string> LiveSubscription::in_flight() const {
  std::lock_guard lock(feed_.mutex_);
  const auto it = feed_.streams_.find(stream_id_);
  if (it == feed_.streams_.end()) return {};
  return {it->second.in_flight.begin(), it->second.in_flight.end()};
}

bool LiveSubscription::any_in_flight(const std::vector<std::string>& numbers) const {
  std::lock_guard lock(feed_.mutex_);
  const auto it = feed_.streams_.find(stream_id_);
  if (it == feed_.streams_.end()) return false;
  return std::any_of(numbers.begin(), numbers.end(),
                     [&](const std::string& n) { return it->second.in_flight.count(n); });
}

LiveSubscription::Clock::time_point LiveSubscription::last_activity() const {
  std::lock_guard lock(feed_.mutex_);
  return last_activity_;
}

void LiveSubscription::notify() {
  // The subscription lives on its executor's strand; the weak pointer covers a reader that ended
  // before the posted wake-up runs.
  boost::asio::post(executor_, [weak = weak_from_this()] {
    if (auto self = weak.lock()) self->wake_.notify();
  });
}

std::shared_ptr<LiveSubscription> LiveFeed::subscribe(std::uint64_t stream_id, const boost::asio::any_io_executor& ex,
                                                      std::size_t max_per_stream, std::size_t max_queued) {
  std::lock_guard lock(mutex_);
  auto& st = streams_[stream_id];
  if (st.subscribers.size() >= max_per_stream) return nullptr;
  auto sub = std::make_shared<LiveSubscription>(*this, stream_id, ex, max_queued);
  st.subscribers.push_back(sub.get());
  return sub;
}

void LiveFeed::remove(LiveSubscription* sub) {
  std::lock_guard lock(mutex_);
  const auto it = streams_.find(sub->stream_id_);
  if (it == streams_.end()) return;
  auto& subs = it->second.subscribers;
  subs.erase(std::remove(subs.begin(), subs.end(), sub), subs.end());
  if (subs.empty() && it->second.in_flight.empty()) streams_.erase(it);
}

void LiveFeed::started(std::uint64_t stream_id) {
  std::lock_guard lock(mutex_);
  const auto it = streams_.find(stream_id);
  if (it == streams_.end()) return;
  const auto now = LiveSubscription::Clock::now();
  for (auto* s : it->second.subscribers) {
    s->last_activity_ = now;
    s->notify();
  }
}

void LiveFeed::received_impl(std::uint64_t stream_id, const std::string& fragment_number,
                             std::shared_ptr<const LiveFragment> fragment) {
  std::lock_guard lock(mutex_);
  auto& st = streams_[stream_id];
  st.in_flight.insert(fragment_number);
  const auto now = LiveSubscription::Clock::now();
  for (auto* s : st.subscribers) {
    // A subscriber that appeared between has_subscribers() and here gets no bytes: it learns of
    // the fragment through in_flight() and reads it from the store once settled.
    if (fragment) {
      s->queue_.push_back(fragment);
      if (s->queue_.size() > s->max_queued_) {
        s->queue_.pop_front();
        s->overflowed_ = true;
      }
    } else {
      s->overflowed_ = true;
    }
    s->last_activity_ = now;
    s->notify();
  }
}

void LiveFeed::settled(std::uint64_t stream_id, const std::string& fragment_number) {
  std::lock_guard lock(mutex_);
  const auto it = streams_.find(stream_id);
  if (it == streams_.end()) return;
  it->second.in_flight.erase(fragment_number);
  for (auto* s : it->second.subscribers) s->notify();
  if (it->second.subscribers.empty() && it->second.in_flight.empty()) streams_.erase(it);
}

bool LiveFeed::has_subscribers(std::uint64_t stream_id) const {
  std::lock_guard lock(mutex_);
  const auto it = streams_.find(stream_id);
  return it != streams_.end() && !it->second.subscribers.empty();
}

std::size_t LiveFeed::subscriber_count(std::uint64_t stream_id) const {
  std::lock_guard lock(mutex_);
  const auto it = streams_.find(stream_id);
  return it == streams_.end() ? 0 : it->second.subscribers.size();
}

}  // namespace kvsd::api
