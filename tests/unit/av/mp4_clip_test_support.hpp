#pragma once
// Test helpers for build_mp4_clip, on top of the MP4 helpers of tests/unit/media: results checked
// for success or an error code, and clips built from synthetic streams or single blocks.

#include <gtest/gtest.h>

#include <cstdint>
#include <variant>
#include <vector>

#include "av/mp4_clip.hpp"
#include "media/mp4_test_support.hpp"

namespace kvsd::media::testing {

using av::build_mp4_clip;
using av::ClipLimits;
using av::ClipResult;

inline ClipResult expect_clip(const std::variant<ClipResult, MediaError>& result) {
  if (const auto* err = std::get_if<MediaError>(&result)) {
    ADD_FAILURE() << "clip failed: " << static_cast<int>(err->code) << " " << err->message;
    return {};
  }
  return std::get<ClipResult>(result);
}

inline MediaErrc expect_error(const std::variant<ClipResult, MediaError>& result) {
  const auto* err = std::get_if<MediaError>(&result);
  EXPECT_NE(err, nullptr) << "expected an error";
  return err != nullptr ? err->code : MediaErrc::internal;
}

inline std::variant<ClipResult, MediaError> build(const Synthetic& s) {
  const auto in = spans(s.clusters);
  return build_mp4_clip(s.header, in);
}

struct Block {
  std::uint8_t track;
  std::int16_t timecode;
  bool key;
  Bytes payload;
};

inline std::variant<ClipResult, MediaError> build_blocks(const std::vector<MkvTrackSpec>& tracks,
                                                         const std::vector<Block>& blocks) {
  Synthetic s;
  s.header = write_mkv_header(MkvSegmentSpec{}, tracks);
  Bytes cluster = write_cluster_start(5000);
  for (const auto& b : blocks) append_simple_block(cluster, b.track, b.timecode, b.key, b.payload);
  s.clusters.push_back(std::move(cluster));
  return build(s);
}

}  // namespace kvsd::media::testing
