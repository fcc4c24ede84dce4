#include "media/cluster_blocks.hpp"

#include <limits>

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

ClusterBlocks::ClusterBlocks(std::span<const std::uint8_t> cluster) noexcept
    : children_(std::span<const std::uint8_t>{}) {
  const char* why = nullptr;
  const auto payload = cluster_payload(cluster, why);
  if (why != nullptr) {
    fail(why);
    return;
  }
  children_ = ebml::ChildIterator(payload);
}

ClusterBlocks::Next ClusterBlocks::fail(const char* why) noexcept {
  failed_ = true;
  error_ = why;
  return Next::invalid;
}

ClusterBlocks::Next ClusterBlocks::next(ClusterBlock& out) noexcept {
  if (failed_) return Next::invalid;
  ebml::ElementHeader h;
  std::span<const std::uint8_t> payload;
  for (auto n = children_.next(h, payload); n != ebml::ChildIterator::Next::end; n = children_.next(h, payload)) {
    if (n == ebml::ChildIterator::Next::invalid) return fail("malformed Cluster");
    if (h.id == mkv_id::kSimpleBlock) {
      out = ClusterBlock{payload, true, false, -1};
      return Next::block;
    }
    if (h.id != mkv_id::kBlockGroup) continue;
    ebml::ChildIterator group(payload);
    std::span<const std::uint8_t> part;
    ClusterBlock block;
    bool have_block = false;
    for (auto g = group.next(h, part); g != ebml::ChildIterator::Next::end; g = group.next(h, part)) {
      if (g == ebml::ChildIterator::Next::invalid) return fail("malformed BlockGroup");
      if (h.id == mkv_id::kBlock) {
        if (have_block) return fail("two Blocks in a BlockGroup");
        block.payload = part;
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
    return Next::block;
  }
  return Next::end;
}

}  // namespace kvsd::media
