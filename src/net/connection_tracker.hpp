#pragma once
// ConnectionTracker: the set of open connections, for the connection limit and graceful
// shutdown. Thread-safe. Drain and abort requests are posted to each connection's strand.

#include <boost/asio/any_io_executor.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>

namespace kvsd::net {

// Per-connection hooks; called only on the connection's strand.
struct ConnectionHooks {
  std::function<void()> drain;  // stop taking new exchanges, close when the current ones end
  std::function<void()> abort;  // close the socket now
  bool alive = true;            // cleared (on the strand) when the connection ends
};

class ConnectionTracker {
 public:
  // Registers a connection unless `max` are already open.
  std::optional<std::uint64_t> try_add(boost::asio::any_io_executor strand, std::shared_ptr<ConnectionHooks> hooks,
                                       std::size_t max);
  void remove(std::uint64_t id);
  void drain_all();
  void abort_all();
  [[nodiscard]] std::size_t size() const;

 private:
  struct Entry {
    boost::asio::any_io_executor strand;
    std::shared_ptr<ConnectionHooks> hooks;
  };
  void post_all(void (*fn)(ConnectionHooks&));

  mutable std::mutex mu_;
  std::uint64_t next_id_ = 1;
  std::unordered_map<std::uint64_t, Entry> entries_;
};

}  // namespace kvsd::net
