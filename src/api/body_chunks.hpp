#pragma once
// BodyChunks: the PutMedia body bytes an upload still needs, kept in the chunks they were read
// into. Reads fill the last chunk, then a new one; the parser reports where each Cluster is in
// the body (it copies none), and fragments and staged parts are cut out of the chunks as shared
// ranges (kvs::StagedPart), so a body byte is never copied in user space on its way to the store.
// Chunks that hold only bytes before a given body offset are released (a range cut out keeps
// its chunk alive on its own).
//
// Threading: none; one per upload, used on its strand. The ranges cut out may be read on other
// threads while later bytes of the same chunk are being filled (they never overlap).

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>

#include "kvs/fragment_store.hpp"

namespace kvsd::api {

class BodyChunks {
 public:
  // Where the next read goes: the free end of the last chunk, or a new chunk of `chunk_bytes`
  // when that one is full.
  std::span<std::uint8_t> free_space(std::size_t chunk_bytes);
  // `n` bytes were read into the span free_space() returned.
  void filled(std::size_t n);
  // Body bytes read so far (the body offset the next read starts at).
  [[nodiscard]] std::uint64_t size() const noexcept { return size_; }
  // The body bytes [from, to) as shared ranges, in order; empty when from >= to. nullopt when
  // some of them are not held (released, or not read yet).
  [[nodiscard]] std::optional<kvs::StagedPart> cut(std::uint64_t from, std::uint64_t to) const;
  // Drops the chunks whose bytes all lie before body offset `needed_from` (the last one stays,
  // for the next reads).
  void release_before(std::uint64_t needed_from);
  // Chunks held (for tests).
  [[nodiscard]] std::size_t chunk_count() const noexcept { return chunks_.size(); }

 private:
  struct Chunk {
    std::shared_ptr<std::uint8_t[]> data;
    std::size_t capacity = 0;
    std::size_t filled = 0;
    std::uint64_t offset = 0;  // body offset of data[0]
  };
  std::deque<Chunk> chunks_;
  std::uint64_t size_ = 0;
};

}  // namespace kvsd::api
