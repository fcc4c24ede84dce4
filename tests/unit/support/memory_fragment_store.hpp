#pragma once
// MemoryFragmentStore: a kvs::FragmentStore held in memory, for unit tests of the layers above
// storage (api links kvs interfaces, never storage). It keeps the interface's contracts that
// callers rely on: fragment numbers increase in arrival order (fixed-width decimal), list() is in
// timestamp order with a resumable cursor, list_after() in number order, a replay of a stored
// producer timestamp is a duplicate, and persist_async() calls back exactly once.
//
// Test controls:
//  - fail_next_persists(n, error): the next n persist_async calls complete with `error`;
//  - hold_persists(true): completions queue up until release_held() (or hold_persists(false)),
//    to test what a caller does while a persist is in flight; callbacks then run on the thread
//    that releases them (never inside persist_async while held);
//  - fail_reads(error): every blocking read returns `error` until fail_reads(std::nullopt).
// Every method is thread-safe (one mutex); callbacks run without the mutex held.

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "kvs/fragment_store.hpp"

namespace kvsd::testing_support {

class MemoryFragmentStore final : public kvs::FragmentStore {
 public:
  std::string next_fragment_number() override {
    std::lock_guard lock(mu_);
    return number_of(++last_number_);
  }

  kvs::Result<std::optional<kvs::FragmentRecord>> find_by_producer_timestamp(std::uint64_t stream_id,
                                                                             std::int64_t ms) override {
    std::lock_guard lock(mu_);
    if (read_error_) return *read_error_;
    for (const auto& [key, f] : fragments_) {
      if (f.record.stream_id == stream_id && f.record.producer_timestamp_ms == ms) return std::optional(f.record);
    }
    return std::optional<kvs::FragmentRecord>{};
  }

  void persist_async(kvs::IngestFragment fragment, PersistCallback done) override {
    kvs::Result<kvs::PersistOutcome> outcome = store(std::move(fragment));
    std::unique_lock lock(mu_);
    if (hold_) {
      held_.emplace_back(
          [done = std::move(done), outcome = std::move(outcome)]() mutable { done(std::move(outcome)); });
      return;
    }
    lock.unlock();
    done(std::move(outcome));
  }

  kvs::Result<std::optional<kvs::FragmentRecord>> get(std::uint64_t stream_id,
                                                      const std::string& fragment_number) override {
    std::lock_guard lock(mu_);
    if (read_error_) return *read_error_;
    const auto it = fragments_.find({stream_id, fragment_number});
    if (it == fragments_.end()) return std::optional<kvs::FragmentRecord>{};
    return std::optional(it->second.record);
  }

  // Cursor: "<timestamp>/<fragment number>" of the last fragment returned (opaque to callers).
  kvs::Result<kvs::FragmentPage> list(const kvs::FragmentQuery& q) override {
    std::lock_guard lock(mu_);
    if (read_error_) return *read_error_;
    using Key = std::tuple<std::int64_t, std::string>;
    std::vector<std::pair<Key, const kvs::FragmentRecord*>> hits;
    for (const auto& [key, f] : fragments_) {
      if (f.record.stream_id != q.stream_id) continue;
      const std::int64_t ts =
          q.kind == kvs::TimestampKind::producer ? f.record.producer_timestamp_ms : f.record.server_timestamp_ms;
      if (ts >= q.from_ms && ts <= q.to_ms) hits.push_back({Key{ts, f.record.fragment_number}, &f.record});
    }
    std::sort(hits.begin(), hits.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::optional<Key> after;
    if (!q.cursor.empty()) {
      const auto slash = q.cursor.find('/');
      if (slash == std::string::npos) return kvs::Error{kvs::errc::invalid_argument, "bad cursor"};
      after = Key{std::stoll(q.cursor.substr(0, slash)), q.cursor.substr(slash + 1)};
    }
    kvs::FragmentPage page;
    const std::size_t limit = std::max<std::size_t>(q.limit, 1);
    for (const auto& [key, record] : hits) {
      if (after && !(*after < key)) continue;
      if (page.fragments.size() == limit) {
        const auto& last = page.fragments.back();
        const std::int64_t ts =
            q.kind == kvs::TimestampKind::producer ? last.producer_timestamp_ms : last.server_timestamp_ms;
        page.next_cursor = std::to_string(ts) + "/" + last.fragment_number;
        break;
      }
      page.fragments.push_back(*record);
    }
    return page;
  }

  kvs::Result<std::vector<kvs::FragmentRecord>> list_after(std::uint64_t stream_id, const std::string& after,
                                                           std::size_t limit) override {
    std::lock_guard lock(mu_);
    if (read_error_) return *read_error_;
    std::vector<kvs::FragmentRecord> out;
    for (auto it = fragments_.upper_bound({stream_id, after}); it != fragments_.end() && out.size() < limit; ++it) {
      if (it->first.first != stream_id) break;
      out.push_back(it->second.record);
    }
    return out;
  }

  kvs::Result<std::optional<kvs::FragmentRecord>> latest(std::uint64_t stream_id) override {
    std::lock_guard lock(mu_);
    if (read_error_) return *read_error_;
    std::optional<kvs::FragmentRecord> newest;
    for (const auto& [key, f] : fragments_) {
      if (key.first == stream_id) newest = f.record;
    }
    return newest;
  }

  kvs::Result<std::vector<std::uint8_t>> read_cluster(const kvs::FragmentRecord& record) override {
    std::lock_guard lock(mu_);
    if (read_error_) return *read_error_;
    const auto it = fragments_.find({record.stream_id, record.fragment_number});
    if (it == fragments_.end()) return kvs::Error{kvs::errc::internal, "no such fragment"};
    return it->second.cluster;
  }

  // In-memory fragments have no file: open_clusters is refused (callers that send from files are
  // tested against the real store).
  kvs::Result<std::vector<kvs::ClusterFile>> open_clusters(const std::vector<kvs::FragmentRecord>&) override {
    return kvs::Error{kvs::errc::internal, "MemoryFragmentStore holds no files"};
  }

  kvs::Result<std::vector<std::uint8_t>> read_header(std::uint64_t stream_id, std::uint64_t header_id) override {
    std::lock_guard lock(mu_);
    if (read_error_) return *read_error_;
    const auto it = headers_.find({stream_id, header_id});
    if (it == headers_.end()) return kvs::Error{kvs::errc::internal, "no such header"};
    return it->second;
  }

  // ---- Test controls ----

  void fail_next_persists(int n, kvs::Error error) {
    std::lock_guard lock(mu_);
    persist_failures_ = n;
    persist_error_ = std::move(error);
  }

  void hold_persists(bool hold) {
    {
      std::lock_guard lock(mu_);
      hold_ = hold;
    }
    if (!hold) release_held();
  }

  // Completes every held persist, in the order they were made. Returns how many.
  std::size_t release_held() {
    std::vector<std::function<void()>> run;
    {
      std::lock_guard lock(mu_);
      run.swap(held_);
    }
    for (auto& f : run) f();
    return run.size();
  }

  void fail_reads(std::optional<kvs::Error> error) {
    std::lock_guard lock(mu_);
    read_error_ = std::move(error);
  }

  // The fragments stored so far (including those whose completion is held), in number order.
  std::vector<kvs::FragmentRecord> stored(std::uint64_t stream_id) {
    std::lock_guard lock(mu_);
    std::vector<kvs::FragmentRecord> out;
    for (const auto& [key, f] : fragments_) {
      if (key.first == stream_id) out.push_back(f.record);
    }
    return out;
  }

 private:
  struct Stored {
    kvs::FragmentRecord record;
    std::vector<std::uint8_t> cluster;
  };

  static std::string number_of(std::uint64_t n) {
    char text[24];
    std::snprintf(text, sizeof text, "%020llu", static_cast<unsigned long long>(n));
    return text;
  }

  kvs::Result<kvs::PersistOutcome> store(kvs::IngestFragment f) {
    std::lock_guard lock(mu_);
    if (persist_failures_ > 0) {
      --persist_failures_;
      return persist_error_;
    }
    for (const auto& [key, s] : fragments_) {
      if (s.record.stream_id == f.stream_id && s.record.producer_timestamp_ms == f.producer_timestamp_ms &&
          s.cluster.size() >= f.cluster_bytes.size())
        return kvs::PersistOutcome{s.record, true};
    }
    std::uint64_t header_id = 0;
    if (f.header) {
      for (const auto& [key, bytes] : headers_) {
        if (key.first == f.stream_id && bytes == *f.header) header_id = key.second;
      }
      if (header_id == 0) {
        header_id = ++last_header_;
        headers_[{f.stream_id, header_id}] = *f.header;
      }
    }
    kvs::FragmentRecord r;
    r.stream_id = f.stream_id;
    r.fragment_number = f.fragment_number.empty() ? number_of(++last_number_) : f.fragment_number;
    r.cluster_timecode = f.cluster_timecode;
    r.producer_timestamp_ms = f.producer_timestamp_ms;
    r.server_timestamp_ms = f.server_timestamp_ms;
    r.duration_ms = f.duration_ms;
    r.header_id = header_id;
    r.size_bytes = f.staged_bytes + f.cluster_bytes.size();
    r.tracks = f.tracks;
    r.metadata = f.metadata;
    fragments_[{f.stream_id, r.fragment_number}] = Stored{r, std::move(f.cluster_bytes)};
    return kvs::PersistOutcome{r, false};
  }

  std::mutex mu_;
  std::uint64_t last_number_ = 0;
  std::uint64_t last_header_ = 0;
  std::map<std::pair<std::uint64_t, std::string>, Stored> fragments_;
  std::map<std::pair<std::uint64_t, std::uint64_t>, std::vector<std::uint8_t>> headers_;
  int persist_failures_ = 0;
  kvs::Error persist_error_{kvs::errc::internal, "injected"};
  bool hold_ = false;
  std::vector<std::function<void()>> held_;
  std::optional<kvs::Error> read_error_;
};

}  // namespace kvsd::testing_support
