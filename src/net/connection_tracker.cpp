#include "net/connection_tracker.hpp"

#include <boost/asio/post.hpp>
#include <vector>

namespace kvsd::net {

std::optional<std::uint64_t> ConnectionTracker::try_add(boost::asio::any_io_executor strand,
                                                        std::shared_ptr<ConnectionHooks> hooks, std::size_t max) {
  std::lock_guard lock(mu_);
  if (entries_.size() >= max) return std::nullopt;
  const auto id = next_id_++;
  entries_.emplace(id, Entry{std::move(strand), std::move(hooks)});
  return id;
}

void ConnectionTracker::remove(std::uint64_t id) {
  std::lock_guard lock(mu_);
  entries_.erase(id);
}

std::size_t ConnectionTracker::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

void ConnectionTracker::post_all(void (*fn)(ConnectionHooks&)) {
  std::vector<Entry> copy;
  {
    std::lock_guard lock(mu_);
    copy.reserve(entries_.size());
    for (const auto& [id, e] : entries_) copy.push_back(e);
  }
  for (auto& e : copy) {
    boost::asio::post(e.strand, [hooks = e.hooks, fn] {
      if (hooks->alive) fn(*hooks);
    });
  }
}

void ConnectionTracker::drain_all() {
  post_all([](ConnectionHooks& h) {
    if (h.drain) h.drain();
  });
}

void ConnectionTracker::abort_all() {
  post_all([](ConnectionHooks& h) {
    if (h.abort) h.abort();
  });
}

}  // namespace kvsd::net
