#include "media/cluster_blocks.hpp"

#include <limits>
#include <utility>

#include "media/matroska_ids.hpp"

namespace kvsd::media {

namespace {

// The Cluster's payload, or nothing with `why` set.
std::span<const std::uint8_t> cluster_payload(std::span<const std::uint8_t> cluster, const char*& why) {
  ebml::ElementHeader h;
  if (ebml::decode_header(cluster, h) != ebml::ReadStatus::complete || h.id != mkv_id::kCluster) {
    why = "not a Cluster";
    return {};
  }
  const std::size_t rest = cluster.size() - h.length;
  if (h.unknown_size) return cluster.subspan(h.length, rest);
  if (h.size > rest) {
    why = "truncated Cluster";
    return {};
  }
  return cluster.subspan(h.length, static_cast<std::size_t>(h.size));
}

}  // namespace

ClusterBlocks::ClusterBlocks(std::span<const std::uint8_t> cluster) : children_(std::span<const std::uint8_t>{}) {
  const char* why = nullptr;
  const auto payload = cluster_payload(cluster, why);
  if (why != nullptr) {
    fail(why);
    return;
  }
  children_ = ebml::ChildIterator(payload);
}

ClusterBlocks::Next ClusterBlocks::fail(std::string why) {
  failed_ = true;
  error_ = std::move(why);
  return Next::invalid;
}

ClusterBlocks::Next ClusterBlocks::emit(std::span<const std::uint8_t> payload, ClusterBlock& out) {
  const auto length = block_head_length(payload);
  if (length == 0 || length > payload.size()) return fail("malformed block header");
  std::string why;
  const auto head = decode_block_head(payload.first(length), payload.size() - length, why);
  if (!head) return fail("malformed block header: " + why);
  out.head = *head;
  out.data = payload.subspan(length);
  return Next::block;
}

ClusterBlocks::Next ClusterBlocks::next(ClusterBlock& out) {
  if (failed_) return Next::invalid;
  ebml::ElementHeader h;
  std::span<const std::uint8_t> payload;
  for (auto n = children_.next(h, payload); n != ebml::ChildIterator::Next::end; n = children_.next(h, payload)) {
    if (n == ebml::ChildIterator::Next::invalid) return fail("malformed Cluster");
    if (h.id == mkv_id::kSimpleBlock) {
      out = ClusterBlock{};
      out.simple = true;
      return emit(payload, out);
    }
    if (h.id != mkv_id::kBlockGroup) continue;
    ebml::ChildIterator group(payload);
    std::span<const std::uint8_t> part;
    ClusterBlock block;
    std::span<const std::uint8_t> block_payload;
    bool have_block = false;
    for (auto g = group.next(h, part); g != ebml::ChildIterator::Next::end; g = group.next(h, part)) {
      if (g == ebml::ChildIterator::Next::invalid) return fail("malformed BlockGroup");
      if (h.id == mkv_id::kBlock) {
        if (have_block) return fail("two Blocks in a BlockGroup");
        block_payload = part;
        have_block = true;
      } else if (h.id == mkv_id::kReferenceBlock) {
        block.referenced = true;
      } else if (h.id == mkv_id::kBlockDuration) {
        const auto d = ebml::read_uint(part);
        if (!d || *d > static_cast<std::uint64_t>(std::numeric_limits<std::int32_t>::max()))
          return fail("malformed BlockDuration");
        block.duration = static_cast<std::int64_t>(*d);
      }
    }
    if (!have_block) continue;
    out = block;
    return emit(block_payload, out);
  }
  return Next::end;
}

}  // namespace kvsd::media
