#include "api/body_chunks.hpp"

#include <algorithm>

namespace kvsd::api {

std::span<std::uint8_t> BodyChunks::free_space(std::size_t chunk_bytes) {
  if (chunks_.empty() || chunks_.back().filled == chunks_.back().capacity) {
    chunk_bytes = std::max<std::size_t>(chunk_bytes, 1);
    // Not value-initialized: the bytes are read into before anything looks at them.
    chunks_.push_back(Chunk{std::shared_ptr<std::uint8_t[]>(new std::uint8_t[chunk_bytes]), chunk_bytes, 0, size_});
  }
  auto& c = chunks_.back();
  return {c.data.get() + c.filled, c.capacity - c.filled};
}

void BodyChunks::filled(std::size_t n) {
  chunks_.back().filled += n;
  size_ += n;
}

std::optional<kvs::StagedPart> BodyChunks::cut(std::uint64_t from, std::uint64_t to) const {
  kvs::StagedPart out;
  if (from >= to) return out;
  if (chunks_.empty() || from < chunks_.front().offset || to > size_) return std::nullopt;
  for (const auto& c : chunks_) {
    const auto end = c.offset + c.filled;
    if (end <= from) continue;
    if (c.offset >= to) break;
    const auto begin = std::max(from, c.offset);
    const auto stop = std::min(to, end);
    out.push_back(kvs::SharedBytes{std::shared_ptr<const void>(c.data, c.data.get()),
                                   std::span<const std::uint8_t>(c.data.get() + (begin - c.offset), stop - begin)});
  }
  return out;
}

void BodyChunks::release_before(std::uint64_t needed_from) {
  while (chunks_.size() > 1 && chunks_.front().offset + chunks_.front().filled <= needed_from) chunks_.pop_front();
}

}  // namespace kvsd::api
