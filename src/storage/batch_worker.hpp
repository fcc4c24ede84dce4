#pragma once
// BatchWorker<T>: one dedicated thread that repeatedly takes everything queued (up to max_batch
// items) and hands it to the work function as one batch. The fragment store runs two of them in a
// pipeline: the group committer (appends to segment files) and the sync stage (fdatasync, the
// index write and the callbacks), so a batch's bytes are being copied while the previous batches
// are being made durable, and both stages take whatever accumulated while they were busy.
//
// Threading: submit(), drain() and stop() are safe from any thread except the worker's own
// (drain() from the worker would wait for itself). The work function runs only on the worker
// thread, one batch at a time. stop() (and the destructor) works off what is queued, then joins;
// after it, submit() returns false and leaves the item with the caller.

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "kvs/fragment_store.hpp"
#include "obs/thread_name.hpp"

namespace kvsd::storage {

// What the committer is given: a fragment to persist, a part to stage on a lane, or the end of a
// lane. For the lane operations only fragment.stream_id and fragment.lane are used.
struct PendingFragment {
  enum class Kind { fragment, part, close_lane };
  kvs::IngestFragment fragment;
  kvs::FragmentStore::PersistCallback done;  // fragment only
  Kind kind = Kind::fragment;
  kvs::StagedPart part;  // part only
};

template <class T>
class BatchWorker {
 public:
  using WorkFn = std::function<void(std::vector<T>& batch)>;

  // `name`: the worker thread's name (obs::name_this_thread).
  BatchWorker(WorkFn work, std::size_t max_batch, std::string name = "kvsd-worker")
      : work_(std::move(work)), max_batch_(std::max<std::size_t>(max_batch, 1)) {
    thread_ = std::thread([this, name = std::move(name)] {
      obs::name_this_thread(name);
      run();
    });
  }
  ~BatchWorker() { stop(); }
  BatchWorker(const BatchWorker&) = delete;
  BatchWorker& operator=(const BatchWorker&) = delete;

  // False (and `item` untouched) once stopping.
  bool submit(T& item) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return false;
      queue_.push_back(std::move(item));
      ++submitted_;
    }
    cv_.notify_all();
    return true;
  }

  // Blocks until every item submitted before the call has been worked off (later ones may
  // still be queued: a steady stream of submissions does not hold it up).
  void drain() {
    std::unique_lock lock(mutex_);
    const auto target = submitted_;
    cv_.wait(lock, [this, target] { return done_ >= target; });
  }

  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void run() {
    std::vector<T> batch;
    std::size_t taken = 0;  // items of the batch just worked off (work_ may move them out)
    for (;;) {
      {
        std::unique_lock lock(mutex_);
        done_ += taken;
        batch.clear();
        cv_.notify_all();  // wakes drain()
        cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping and drained
        if (queue_.size() <= max_batch_) {
          batch.swap(queue_);
        } else {
          const auto end = queue_.begin() + static_cast<std::ptrdiff_t>(max_batch_);
          batch.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(end));
          queue_.erase(queue_.begin(), end);
        }
      }
      taken = batch.size();
      work_(batch);
    }
  }

  WorkFn work_;
  std::size_t max_batch_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<T> queue_;
  std::uint64_t submitted_ = 0;  // items ever queued
  std::uint64_t done_ = 0;       // items ever worked off
  bool stopping_ = false;
  std::thread thread_;  // last: started after everything it uses
};

using GroupCommitter = BatchWorker<PendingFragment>;

}  // namespace kvsd::storage
