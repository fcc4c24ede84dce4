#include "frame_store.hpp"

namespace kvsput {

void FrameStore::push(Frame frame) {
  auto f = std::make_shared<const Frame>(std::move(frame));
  std::lock_guard lock(mutex_);
  frames_.push_back(std::move(f));
}

void FrameStore::finish(std::string error) {
  std::lock_guard lock(mutex_);
  done_ = true;
  error_ = std::move(error);
  finished_.notify_all();
}

void FrameStore::wait_finished() const {
  std::unique_lock lock(mutex_);
  finished_.wait(lock, [this] { return done_; });
}

FrameStore::Status FrameStore::get(std::size_t index, std::shared_ptr<const Frame>& out) const {
  std::lock_guard lock(mutex_);
  if (index < frames_.size()) {
    out = frames_[index];
    return Status::frame;
  }
  return done_ ? Status::end : Status::pending;
}

std::string FrameStore::error() const {
  std::lock_guard lock(mutex_);
  return error_;
}

std::size_t FrameStore::size() const {
  std::lock_guard lock(mutex_);
  return frames_.size();
}

}  // namespace kvsput
