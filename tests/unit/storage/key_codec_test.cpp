#include "storage/key_codec.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "storage/fragment_numbers.hpp"

namespace kvsd::storage {
namespace {

TEST(KeyCodec, FragmentNumbersAreFixedWidthAndSortNumerically) {
  const std::vector<std::uint64_t> values{0,         1, 9, 10, 99, 1ULL << 32, 27000000000000000ULL, UINT64_MAX - 1,
                                          UINT64_MAX};
  std::string previous;
  for (const auto v : values) {
    const auto s = format_fragment_number(v);
    EXPECT_EQ(s.size(), kFragmentNumberChars);
    EXPECT_EQ(s[0], '9');
    EXPECT_EQ(parse_fragment_number(s), v);
    EXPECT_LT(previous, s);
    previous = s;
  }
  EXPECT_EQ(format_fragment_number(42), "900000000000000000042");
  EXPECT_FALSE(parse_fragment_number("800000000000000000042"));
  EXPECT_FALSE(parse_fragment_number("90000000000000000042"));
  EXPECT_FALSE(parse_fragment_number("9000000000000000000a2"));
  EXPECT_FALSE(parse_fragment_number("918446744073709551616"));  // UINT64_MAX + 1
}

TEST(KeyCodec, TimestampKeysOrderSignedTimes) {
  const std::vector<std::int64_t> times{INT64_MIN, -1000, -1, 0, 1, 1700000000000, INT64_MAX};
  std::string previous;
  for (const auto t : times) {
    const auto k = timestamp_key(5, t, 77);
    EXPECT_EQ(k.size(), kTimestampKeyBytes);
    EXPECT_LT(previous, k);
    previous = k;
    const auto d = decode_timestamp_key(k);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->stream_id, 5u);
    EXPECT_EQ(d->ts_ms, t);
    EXPECT_EQ(d->fragment_number, 77u);
  }
  EXPECT_LT(timestamp_key(5, INT64_MAX, UINT64_MAX), timestamp_key(6, INT64_MIN, 0));
  EXPECT_LT(id_key(1, UINT64_MAX), id_key(2, 0));
  EXPECT_FALSE(decode_timestamp_key("short"));
}

TEST(KeyCodec, CursorRoundTripsAndRejectsJunk) {
  for (std::size_t n = 0; n < 30; ++n) {
    std::string key;
    for (std::size_t i = 0; i < n; ++i) key.push_back(static_cast<char>(i * 37 + 250));
    const auto c = encode_cursor(key);
    for (char ch : c) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_');
    EXPECT_EQ(decode_cursor(c), key);
  }
  EXPECT_FALSE(decode_cursor("a+b"));
  EXPECT_FALSE(decode_cursor("A"));   // 6 bits: not a whole byte
  EXPECT_FALSE(decode_cursor("AB"));  // non-zero padding bits
}

TEST(KeyCodec, Hex16) {
  EXPECT_EQ(hex16(0xABCDEF), "0000000000abcdef");
  EXPECT_EQ(parse_hex16("0000000000abcdef"), 0xABCDEFu);
  EXPECT_FALSE(parse_hex16("0000000000ABCDEF"));
  EXPECT_FALSE(parse_hex16("abc"));
}

TEST(FragmentNumbers, IncreaseAboveFloorAndClock) {
  std::uint64_t clock = 100;
  FragmentNumberGenerator g(5000, [&] { return clock; });
  EXPECT_EQ(g.next(), 5001u);  // clock * 16 = 1600 is below the floor
  EXPECT_EQ(g.next(), 5002u);
  clock = 1000;
  EXPECT_EQ(g.next(), 16000u);
  EXPECT_EQ(g.next(), 16001u);  // same microsecond
  clock = 10;                   // clock stepped back
  EXPECT_EQ(g.next(), 16002u);
  EXPECT_EQ(g.highest_issued(), 16002u);
}

}  // namespace
}  // namespace kvsd::storage
