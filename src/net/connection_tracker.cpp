#include "net/connection_tracker.hpp"

#include <boost/asio/post.hpp>
#include <vector>

namespace kvsd::net {

Admission ConnectionTracker::try_add(boost::asio::any_io_executor strand, std::shared_ptr<ConnectionHooks> hooks,
                                     const std::string& address, std::size_t max, std::size_t max_per_address) {
  std::lock_guard lock(mu_);
  Admission out;
  const auto known = per_address_.find(address);
  const std::size_t from_address = known == per_address_.end() ? 0 : known->second;
  if (max_per_address > 0 && from_address >= max_per_address) {
    out.outcome = Admission::Outcome::per_address_limit;
    return out;
  }
  if (entries_.size() - evicting_ >= max) {
    auto victim = entries_.end();
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (!it->second.evicting && !it->second.hooks->authenticated.load()) {
        victim = it;
        break;
      }
    }
    if (victim == entries_.end()) {
      out.outcome = Admission::Outcome::full;
      return out;
    }
    victim->second.evicting = true;
    ++evicting_;
    boost::asio::post(victim->second.strand, [h = victim->second.hooks] {
      if (h->alive && h->abort) h->abort();
    });
    out.evicted_one = true;
  }
  ++per_address_[address];
  out.outcome = Admission::Outcome::admitted;
  out.id = next_id_++;
  entries_.emplace(out.id, Entry{std::move(strand), std::move(hooks), address, false});
  return out;
}

void ConnectionTracker::remove(std::uint64_t id) {
  std::lock_guard lock(mu_);
  const auto it = entries_.find(id);
  if (it == entries_.end()) return;
  if (it->second.evicting) --evicting_;
  const auto a = per_address_.find(it->second.address);
  if (a != per_address_.end() && --a->second == 0) per_address_.erase(a);
  entries_.erase(it);
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
