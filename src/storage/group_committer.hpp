#pragma once
// GroupCommitter: the dedicated committer thread. submit() queues a fragment and returns at
// once; the thread repeatedly takes everything queued and hands it, as one batch, to the commit
// function, which must call every item's callback exactly once. Many streams therefore share one
// fdatasync round and one index sync.
//
// Threading: submit() and stop() are safe from any thread. The commit function runs only on the
// committer thread, one batch at a time. stop() (and the destructor) commits what is queued,
// then joins; after it, submit() returns false and the caller completes the item itself.

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "kvs/fragment_store.hpp"

namespace kvsd::storage {

struct PendingFragment {
  kvs::IngestFragment fragment;
  kvs::FragmentStore::PersistCallback done;
};

class GroupCommitter {
 public:
  using CommitFn = std::function<void(std::vector<PendingFragment>& batch)>;

  // `max_batch`: at most this many fragments per batch (the rest wait for the next one).
  GroupCommitter(CommitFn commit, std::size_t max_batch);
  ~GroupCommitter();
  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  // False (and `item` untouched) once stopping.
  bool submit(PendingFragment& item);
  void stop();

 private:
  void run();

  CommitFn commit_;
  std::size_t max_batch_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<PendingFragment> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace kvsd::storage
