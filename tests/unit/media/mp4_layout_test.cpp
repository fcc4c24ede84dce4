// Moving moov before mdat with chunk offsets shifted.

#include <gtest/gtest.h>

#include <algorithm>

#include <string>
#include <vector>

#include "media/mp4_layout.hpp"
#include "mp4_test_support.hpp"

namespace kvsd::media {
namespace {

using namespace testing;  // the helpers of mp4_test_support.hpp / mkv_test_support.hpp

TEST(Mp4LayoutTest, MovesMoovAndShiftsChunkOffsets) {
  // ftyp | mdat(4 bytes) | moov > trak > mdia > minf > stbl > stco(1 entry: 24, mdat's payload)
  auto box = [](const char* type, const Bytes& body) {
    const auto size = static_cast<std::uint32_t>(body.size() + 8);
    Bytes out(size);
    for (int i = 0; i < 4; ++i) {
      out[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(size >> (24 - 8 * i));
      out[static_cast<std::size_t>(4 + i)] = static_cast<std::uint8_t>(type[i]);
    }
    std::copy(body.begin(), body.end(), out.begin() + 8);
    return out;
  };
  const Bytes stco = box("stco", Bytes{0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 24});
  const Bytes moov = box("moov", box("trak", box("mdia", box("minf", box("stbl", stco)))));
  const Bytes ftyp = box("ftyp", Bytes{'i', 's', 'o', 'm', 0, 0, 2, 0});
  const Bytes mdat = box("mdat", Bytes{1, 2, 3, 4});
  const Bytes file = testing::cat({ftyp, mdat, moov});
  const auto moved = move_moov_before_mdat(file);
  ASSERT_TRUE(moved);
  ASSERT_EQ(moved->size(), file.size());
  EXPECT_EQ(top_level_boxes(*moved), (std::vector<std::string>{"ftyp", "moov", "mdat"}));
  // The chunk offset moved by the moov's size, to where mdat's payload now is.
  const std::size_t entry = ftyp.size() + moov.size() - 4;
  const std::uint32_t offset = (std::uint32_t{(*moved)[entry]} << 24) | ((*moved)[entry + 1] << 16) |
                               ((*moved)[entry + 2] << 8) | (*moved)[entry + 3];
  EXPECT_EQ(offset, 24 + moov.size());
  EXPECT_EQ((*moved)[offset], 1);
  EXPECT_EQ(move_moov_before_mdat(*moved), moved) << "already in front: unchanged";
  EXPECT_FALSE(move_moov_before_mdat(testing::cat({ftyp, mdat})));
  Bytes broken = file;
  broken.pop_back();
  EXPECT_FALSE(move_moov_before_mdat(broken));
}

}  // namespace
}  // namespace kvsd::media
