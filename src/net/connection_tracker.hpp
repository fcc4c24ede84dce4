#pragma once
// ConnectionTracker: the set of open connections, for the connection limits and graceful
// shutdown. Thread-safe. Drain and abort requests are posted to each connection's strand.
//
// Admission (try_add), in order:
// - a peer address with max_per_address connections open gets no more (0: no such limit);
// - at max connections, the oldest connection that has not yet authenticated a request is
//   closed to make room (eviction), so that clients holding connections without credentials
//   (slow heads or bodies) cannot lock out a fresh operator's /healthz or signed call; only
//   when every open connection has authenticated is the new one refused.

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace kvsd::net {

// Per-connection hooks; called only on the connection's strand.
struct ConnectionHooks {
  std::function<void()> drain;             // stop taking new exchanges, close when the current ones end
  std::function<void()> abort;             // close the socket now
  bool alive = true;                       // cleared (on the strand) when the connection ends
  std::atomic<bool> authenticated{false};  // set once a request on it passed SigV4 (never evicted then)
};

struct Admission {
  enum class Outcome { admitted, per_address_limit, full } outcome = Outcome::full;
  std::uint64_t id = 0;      // when admitted
  bool evicted_one = false;  // when admitted: an older unauthenticated connection is being closed
};

class ConnectionTracker {
 public:
  // Registers a connection from `address` (see the admission rules above).
  Admission try_add(boost::asio::any_io_executor strand, std::shared_ptr<ConnectionHooks> hooks,
                    const std::string& address, std::size_t max, std::size_t max_per_address);
  void remove(std::uint64_t id);
  void drain_all();
  void abort_all();
  [[nodiscard]] std::size_t size() const;

 private:
  struct Entry {
    boost::asio::any_io_executor strand;
    std::shared_ptr<ConnectionHooks> hooks;
    std::string address;
    bool evicting = false;
  };
  void post_all(void (*fn)(ConnectionHooks&));

  mutable std::mutex mu_;
  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, Entry> entries_;  // by id: oldest first
  std::unordered_map<std::string, std::size_t> per_address_;
  std::size_t evicting_ = 0;  // entries being closed to make room, still open
};

}  // namespace kvsd::net
