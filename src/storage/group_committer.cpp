#include "storage/group_committer.hpp"

#include <algorithm>
#include <iterator>
#include <utility>

namespace kvsd::storage {

GroupCommitter::GroupCommitter(CommitFn commit, std::size_t max_batch)
    : commit_(std::move(commit)), max_batch_(std::max<std::size_t>(max_batch, 1)) {
  thread_ = std::thread([this] { run(); });
}

GroupCommitter::~GroupCommitter() { stop(); }

bool GroupCommitter::submit(PendingFragment& item) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return false;
    queue_.push_back(std::move(item));
  }
  cv_.notify_one();
  return true;
}

void GroupCommitter::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void GroupCommitter::run() {
  std::vector<PendingFragment> batch;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
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
    commit_(batch);
    batch.clear();
  }
}

}  // namespace kvsd::storage
