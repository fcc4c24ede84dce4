#include "media/fragment_metadata.hpp"

namespace kvsd::media {

const char* FragmentMetadata::problem(const std::string& name, const std::string& value, std::size_t count) const {
  if (name.size() > limits_.max_name_bytes) return "metadata name over the size limit";
  if (value.size() > limits_.max_value_bytes) return "metadata value over the size limit";
  if (count >= limits_.max_items) return "more metadata items in a fragment than allowed";
  return nullptr;
}

const char* FragmentMetadata::add_to_open(MetadataItems& fragment, std::string name, std::string value) const {
  const char* p = problem(name, value, fragment.size());
  if (p == nullptr) fragment.emplace_back(std::move(name), std::move(value));
  return p;
}

void FragmentMetadata::add_waiting(std::string name, std::string value, std::uint64_t body_offset) {
  const char* p = problem(name, value, waiting_.size());
  if (p == nullptr) {
    waiting_.emplace_back(std::move(name), std::move(value));
  } else if (!waiting_problem_) {
    waiting_problem_ = std::string(p) + " (before the Cluster, at body offset " + std::to_string(body_offset) + ")";
  }
}

void FragmentMetadata::drop_waiting() {
  waiting_.clear();
  waiting_problem_.reset();
}

MetadataItems FragmentMetadata::take_waiting() {
  MetadataItems out = std::move(waiting_);
  waiting_.clear();
  return out;
}

}  // namespace kvsd::media
