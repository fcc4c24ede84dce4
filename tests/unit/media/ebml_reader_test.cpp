#include "media/ebml_reader.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace kvsd::media::ebml {
namespace {

using Bytes = std::vector<std::uint8_t>;

TEST(EbmlReader, VintLength) {
  EXPECT_EQ(vint_length(0x80), 1u);
  EXPECT_EQ(vint_length(0x40), 2u);
  EXPECT_EQ(vint_length(0x1A), 4u);
  EXPECT_EQ(vint_length(0x01), 8u);
  EXPECT_EQ(vint_length(0x00), 0u);
}

TEST(EbmlReader, DecodeIds) {
  std::uint32_t id = 0;
  std::size_t len = 0;
  const Bytes ebml = {0x1A, 0x45, 0xDF, 0xA3};
  ASSERT_EQ(decode_id(ebml, id, len), ReadStatus::complete);
  EXPECT_EQ(id, 0x1A45DFA3u);
  EXPECT_EQ(len, 4u);
  ASSERT_EQ(decode_id(Bytes{0xA3}, id, len), ReadStatus::complete);
  EXPECT_EQ(id, 0xA3u);
  EXPECT_EQ(decode_id(Bytes{0x1A, 0x45}, id, len), ReadStatus::need_more);
  EXPECT_EQ(decode_id(Bytes{0x08, 0, 0, 0, 1}, id, len), ReadStatus::invalid);  // 5-byte ID
  EXPECT_EQ(decode_id(Bytes{0xFF}, id, len), ReadStatus::invalid);              // reserved
  EXPECT_EQ(decode_id(Bytes{0x80}, id, len), ReadStatus::invalid);              // reserved
  EXPECT_EQ(decode_id(Bytes{0x40, 0x00}, id, len), ReadStatus::invalid);
}

TEST(EbmlReader, DecodeSizesIncludingEveryUnknownForm) {
  std::uint64_t size = 0;
  bool unknown = false;
  std::size_t len = 0;
  ASSERT_EQ(decode_size(Bytes{0x85}, size, unknown, len), ReadStatus::complete);
  EXPECT_EQ(size, 5u);
  EXPECT_FALSE(unknown);
  ASSERT_EQ(decode_size(Bytes{0x01, 0, 0, 0, 0, 0, 0x01, 0x02}, size, unknown, len), ReadStatus::complete);
  EXPECT_EQ(size, 0x102u);
  EXPECT_EQ(len, 8u);
  EXPECT_FALSE(unknown);
  for (std::size_t width = 1; width <= 8; ++width) {
    Bytes b(width, 0xFF);
    b[0] = static_cast<std::uint8_t>(0xFF >> (width - 1));
    ASSERT_EQ(decode_size(b, size, unknown, len), ReadStatus::complete) << width;
    EXPECT_TRUE(unknown) << width;
    EXPECT_EQ(len, width);
  }
  // 0x7F 0xFF is unknown; 0x7F 0xFE is a real size.
  ASSERT_EQ(decode_size(Bytes{0x7F, 0xFE}, size, unknown, len), ReadStatus::complete);
  EXPECT_FALSE(unknown);
  EXPECT_EQ(size, 0x3FFEu);
  EXPECT_EQ(decode_size(Bytes{0x00, 1}, size, unknown, len), ReadStatus::invalid);
  EXPECT_EQ(decode_size(Bytes{0x01, 0, 0}, size, unknown, len), ReadStatus::need_more);
}

TEST(EbmlReader, HeaderReaderAcrossPieces) {
  const Bytes header = {0x1F, 0x43, 0xB6, 0x75, 0x01, 0, 0, 0, 0, 0, 0x10, 0x00, 0xAA};
  for (std::size_t cut = 0; cut <= header.size(); ++cut) {
    ElementHeaderReader reader;
    auto s1 = reader.feed(std::span<const std::uint8_t>(header).first(cut));
    std::size_t consumed = s1.consumed;
    ReadStatus status = s1.status;
    if (status != ReadStatus::complete) {
      EXPECT_EQ(consumed, cut);
      const auto s2 = reader.feed(std::span<const std::uint8_t>(header).subspan(cut));
      consumed += s2.consumed;
      status = s2.status;
    }
    ASSERT_EQ(status, ReadStatus::complete) << cut;
    EXPECT_EQ(consumed, 12u) << cut;  // never takes the payload byte
    EXPECT_EQ(reader.header().id, 0x1F43B675u);
    EXPECT_EQ(reader.header().size, 0x1000u);
    EXPECT_EQ(reader.header().length, 12u);
    EXPECT_EQ(Bytes(reader.raw().begin(), reader.raw().end()), Bytes(header.begin(), header.begin() + 12));
  }
  ElementHeaderReader reader;
  EXPECT_EQ(reader.feed(Bytes{0x00}).status, ReadStatus::invalid);
  reader.reset();
  EXPECT_EQ(reader.feed(Bytes{0xA3, 0x00}).status, ReadStatus::invalid);
  reader.reset();
  EXPECT_TRUE(reader.feed(Bytes{0xA3}).status == ReadStatus::need_more);
  EXPECT_TRUE(reader.partial());
}

TEST(EbmlReader, Values) {
  EXPECT_EQ(read_uint(Bytes{}), 0u);
  EXPECT_EQ(read_uint(Bytes{0x01, 0x00}), 256u);
  EXPECT_FALSE(read_uint(Bytes(9, 0)).has_value());
  EXPECT_EQ(read_int(Bytes{0xFF, 0xD8}), -40);
  EXPECT_EQ(read_int(Bytes{0x7F}), 127);
  EXPECT_EQ(read_float(Bytes{0x47, 0x3B, 0x80, 0x00}), 48000.0);
  EXPECT_EQ(read_float(Bytes{0x40, 0xE7, 0x70, 0, 0, 0, 0, 0}), 48000.0);
  EXPECT_FALSE(read_float(Bytes{1, 2, 3}).has_value());
  const Bytes padded = {'a', 'b', 0, 0};
  EXPECT_EQ(read_string(padded), "ab");
}

TEST(EbmlReader, ChildIterator) {
  const Bytes payload = {0x86, 0x81, 0x01, 0xE7, 0x82, 0x12, 0x34};
  ChildIterator it(payload);
  ElementHeader h;
  std::span<const std::uint8_t> p;
  ASSERT_EQ(it.next(h, p), ChildIterator::Next::child);
  EXPECT_EQ(h.id, 0x86u);
  ASSERT_EQ(it.next(h, p), ChildIterator::Next::child);
  EXPECT_EQ(read_uint(p), 0x1234u);
  EXPECT_EQ(it.next(h, p), ChildIterator::Next::end);
  const Bytes overrun = {0x86, 0x85, 0x01};
  ChildIterator bad(overrun);
  EXPECT_EQ(bad.next(h, p), ChildIterator::Next::invalid);
  EXPECT_EQ(bad.next(h, p), ChildIterator::Next::invalid);
  const Bytes unknown = {0x86, 0xFF, 0x01};
  ChildIterator bad2(unknown);
  EXPECT_EQ(bad2.next(h, p), ChildIterator::Next::invalid);
}

}  // namespace
}  // namespace kvsd::media::ebml
