#include "http/chunked_decoder.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kvsd::http {
namespace {

constexpr std::size_t kNoLimit = std::numeric_limits<std::size_t>::max();

std::span<const std::uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::string text(std::span<const std::uint8_t> s) { return {reinterpret_cast<const char*>(s.data()), s.size()}; }

struct Run {
  std::string data;          // the data runs, concatenated
  std::size_t consumed = 0;  // input bytes the decoder took
};

// Delivers `input` to the decoder in pieces of the given sizes (cycled; none means the whole input
// at once). After each piece it calls feed() on everything not consumed yet until a call consumes
// nothing, the way a session re-feeds its buffer. Checks on the way that each data run lies inside
// the consumed range and respects max_data.
Run drive(ChunkedDecoder& decoder, std::string_view input, const std::vector<std::size_t>& pieces,
          std::size_t max_data) {
  Run run;
  std::string pending;
  std::size_t from = 0;
  std::size_t piece = 0;
  while (from < input.size()) {
    const std::size_t n =
        pieces.empty() ? input.size() : std::min(pieces[piece++ % pieces.size()], input.size() - from);
    pending.append(input.substr(from, n));
    from += n;
    for (;;) {
      const auto step = decoder.feed(bytes(pending), max_data);
      if (step.consumed == 0) {
        EXPECT_TRUE(step.data.empty());
        break;
      }
      EXPECT_LE(step.consumed, pending.size());
      EXPECT_LE(step.data.size(), max_data);
      if (!step.data.empty()) {
        const auto* base = reinterpret_cast<const std::uint8_t*>(pending.data());
        EXPECT_GE(step.data.data(), base);
        EXPECT_LE(step.data.data() + step.data.size(), base + step.consumed);
      }
      run.data += text(step.data);
      run.consumed += step.consumed;
      pending.erase(0, step.consumed);
    }
  }
  return run;
}

Run drive_whole(ChunkedDecoder& decoder, std::string_view input) { return drive(decoder, input, {}, kNoLimit); }

// A failed decoder stays failed: it takes nothing more and hands back no data.
void expect_failed_for_good(ChunkedDecoder& decoder) {
  EXPECT_TRUE(decoder.failed());
  EXPECT_FALSE(decoder.done());
  EXPECT_FALSE(decoder.in_data());
  EXPECT_FALSE(decoder.error().empty());
  const auto step = decoder.feed(bytes("5\r\nhello\r\n0\r\n\r\n"), kNoLimit);
  EXPECT_EQ(step.consumed, 0u);
  EXPECT_TRUE(step.data.empty());
  EXPECT_TRUE(decoder.failed());
}

constexpr std::string_view kWiki = "4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n";

TEST(ChunkedDecoder, DecodesASimpleBody) {
  ChunkedDecoder decoder;
  EXPECT_FALSE(decoder.done());
  EXPECT_FALSE(decoder.failed());
  const auto run = drive_whole(decoder, kWiki);
  EXPECT_EQ(run.data, "Wikipedia");
  EXPECT_EQ(run.consumed, kWiki.size());
  EXPECT_TRUE(decoder.done());
  EXPECT_FALSE(decoder.failed());
  EXPECT_FALSE(decoder.in_data());
  EXPECT_TRUE(decoder.error().empty());
  EXPECT_EQ(decoder.body_bytes(), 9u);
}

TEST(ChunkedDecoder, ChunkSizeIsTheSizeOfTheChunkBeingRead) {
  ChunkedDecoder decoder;
  EXPECT_EQ(decoder.chunk_size(), 0u);
  auto step = decoder.feed(bytes("1a\r\n0123"), kNoLimit);
  EXPECT_EQ(text(step.data), "0123");
  EXPECT_EQ(decoder.chunk_size(), 26u);
  // The rest of the chunk, then the next size line: one data run per call, so it stops at "xy".
  step = decoder.feed(bytes("456789abcdefghijklmnop\r\n3\r\nxy"), kNoLimit);
  EXPECT_EQ(text(step.data), "456789abcdefghijklmnop");
  EXPECT_EQ(step.consumed, 27u);
  EXPECT_EQ(decoder.chunk_size(), 3u);
  step = decoder.feed(bytes("xy"), kNoLimit);
  EXPECT_EQ(text(step.data), "xy");
  EXPECT_EQ(decoder.chunk_size(), 3u);
}

TEST(ChunkedDecoder, OneFeedHandsBackAtMostOneDataRun) {
  ChunkedDecoder decoder;
  const auto step = decoder.feed(bytes(kWiki), kNoLimit);
  EXPECT_EQ(text(step.data), "Wiki");
  // "4\r\nWiki" is needed for the run; "pedia" is a second run and must stay unconsumed.
  EXPECT_GE(step.consumed, 7u);
  EXPECT_LE(step.consumed, kWiki.find("pedia"));
  EXPECT_FALSE(decoder.done());
}

TEST(ChunkedDecoder, SplitAtEveryPositionGivesTheSameBody) {
  for (std::size_t cut = 0; cut <= kWiki.size(); ++cut) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    ChunkedDecoder decoder;
    const auto run = drive(decoder, kWiki, {cut == 0 ? kWiki.size() : cut, kWiki.size()}, kNoLimit);
    EXPECT_EQ(run.data, "Wikipedia");
    EXPECT_EQ(run.consumed, kWiki.size());
    EXPECT_TRUE(decoder.done());
    EXPECT_EQ(decoder.body_bytes(), 9u);
  }
}

TEST(ChunkedDecoder, OneByteAtATimeGivesTheSameBody) {
  ChunkedDecoder decoder;
  const auto run = drive(decoder, kWiki, {1}, kNoLimit);
  EXPECT_EQ(run.data, "Wikipedia");
  EXPECT_EQ(run.consumed, kWiki.size());
  EXPECT_TRUE(decoder.done());
  EXPECT_EQ(decoder.body_bytes(), 9u);
}

TEST(ChunkedDecoder, MaxDataOfOneGivesTheSameBody) {
  for (const auto& pieces : {std::vector<std::size_t>{}, std::vector<std::size_t>{1}, std::vector<std::size_t>{3, 5}}) {
    ChunkedDecoder decoder;
    const auto run = drive(decoder, kWiki, pieces, 1);
    EXPECT_EQ(run.data, "Wikipedia");
    EXPECT_EQ(run.consumed, kWiki.size());
    EXPECT_TRUE(decoder.done());
    EXPECT_EQ(decoder.body_bytes(), 9u);
  }
}

TEST(ChunkedDecoder, MaxDataOfZeroTakesNoData) {
  ChunkedDecoder decoder;
  auto step = decoder.feed(bytes("5\r\nhello\r\n"), 0);
  EXPECT_EQ(step.consumed, 3u);
  EXPECT_TRUE(step.data.empty());
  EXPECT_TRUE(decoder.in_data());
  step = decoder.feed(bytes("hello\r\n"), 0);
  EXPECT_EQ(step.consumed, 0u);
  EXPECT_EQ(decoder.data_remaining(), 5u);
}

TEST(ChunkedDecoder, DirectReadsInsideAChunk) {
  ChunkedDecoder decoder;
  auto step = decoder.feed(bytes("a\r\n"), kNoLimit);
  EXPECT_EQ(step.consumed, 3u);
  EXPECT_TRUE(step.data.empty());
  ASSERT_TRUE(decoder.in_data());
  EXPECT_EQ(decoder.data_remaining(), 10u);

  // The caller reads 4 of the 10 bytes ("0123") itself.
  decoder.data_read(4);
  EXPECT_TRUE(decoder.in_data());
  EXPECT_EQ(decoder.data_remaining(), 6u);
  EXPECT_EQ(decoder.body_bytes(), 4u);

  const auto run = drive_whole(decoder, "456789\r\n3\r\nabc\r\n0\r\n\r\n");
  EXPECT_EQ(run.data, "456789abc");
  EXPECT_TRUE(decoder.done());
  EXPECT_EQ(decoder.body_bytes(), 13u);
}

TEST(ChunkedDecoder, DirectReadOfAWholeChunkLeavesOnlyFraming) {
  ChunkedDecoder decoder;
  EXPECT_EQ(decoder.feed(bytes("5\r\n"), kNoLimit).consumed, 3u);
  decoder.data_read(5);
  EXPECT_FALSE(decoder.in_data());
  EXPECT_EQ(decoder.data_remaining(), 0u);
  const auto run = drive_whole(decoder, "\r\n0\r\n\r\n");
  EXPECT_TRUE(run.data.empty());
  EXPECT_EQ(run.consumed, 7u);
  EXPECT_TRUE(decoder.done());
  EXPECT_EQ(decoder.body_bytes(), 5u);
}

TEST(ChunkedDecoder, DirectReadAfterAFedRun) {
  ChunkedDecoder decoder;
  const auto step = decoder.feed(bytes("8\r\nabc"), kNoLimit);
  EXPECT_EQ(text(step.data), "abc");
  EXPECT_EQ(step.consumed, 6u);
  EXPECT_EQ(decoder.data_remaining(), 5u);
  decoder.data_read(2);
  EXPECT_EQ(decoder.data_remaining(), 3u);
  const auto run = drive_whole(decoder, "fgh\r\n0\r\n\r\n");
  EXPECT_EQ(run.data, "fgh");
  EXPECT_TRUE(decoder.done());
  EXPECT_EQ(decoder.body_bytes(), 8u);
}

TEST(ChunkedDecoder, UppercaseHexSize) {
  ChunkedDecoder decoder;
  const std::string body(26, 'x');
  const auto run = drive_whole(decoder, "1A\r\n" + body + "\r\n0\r\n\r\n");
  EXPECT_EQ(run.data, body);
  EXPECT_TRUE(decoder.done());
}

TEST(ChunkedDecoder, MixedCaseHexSize) {
  ChunkedDecoder decoder;
  EXPECT_EQ(decoder.feed(bytes("aBc\r\n"), kNoLimit).consumed, 5u);
  EXPECT_EQ(decoder.data_remaining(), 0xabcu);
}

TEST(ChunkedDecoder, LeadingZerosInSize) {
  ChunkedDecoder decoder;
  const auto run = drive_whole(decoder, "000a\r\n0123456789\r\n0\r\n\r\n");
  EXPECT_EQ(run.data, "0123456789");
  EXPECT_TRUE(decoder.done());
}

TEST(ChunkedDecoder, ChunkExtensionsAreIgnored) {
  ChunkedDecoder decoder;
  const std::string_view input = "5;name=value\r\nhello\r\n6;a;b=\"q;x\"\r\n world\r\n0;last\r\n\r\n";
  const auto run = drive_whole(decoder, input);
  EXPECT_EQ(run.data, "hello world");
  EXPECT_EQ(run.consumed, input.size());
  EXPECT_TRUE(decoder.done());
}

TEST(ChunkedDecoder, LongExtensionWithinTheLineLimit) {
  ChunkedDecoder decoder;
  const std::string input = "3;x=" + std::string(ChunkedDecoder::kMaxLineBytes / 2, 'v') + "\r\nabc\r\n0\r\n\r\n";
  const auto run = drive(decoder, input, {1}, kNoLimit);
  EXPECT_EQ(run.data, "abc");
  EXPECT_TRUE(decoder.done());
}

TEST(ChunkedDecoder, LastChunkWithSeveralZeros) {
  ChunkedDecoder decoder;
  const auto run = drive_whole(decoder, "2\r\nhi\r\n000\r\n\r\n");
  EXPECT_EQ(run.data, "hi");
  EXPECT_TRUE(decoder.done());
}

TEST(ChunkedDecoder, EmptyBody) {
  ChunkedDecoder decoder;
  const auto run = drive_whole(decoder, "0\r\n\r\n");
  EXPECT_TRUE(run.data.empty());
  EXPECT_EQ(run.consumed, 5u);
  EXPECT_TRUE(decoder.done());
  EXPECT_EQ(decoder.body_bytes(), 0u);
}

TEST(ChunkedDecoder, TrailerFieldsAreIgnored) {
  const std::string_view input = "3\r\nabc\r\n0\r\nX-Trailer: 1\r\nY: 2\r\n\r\n";
  for (const auto& pieces : {std::vector<std::size_t>{}, std::vector<std::size_t>{1}}) {
    ChunkedDecoder decoder;
    const auto run = drive(decoder, input, pieces, kNoLimit);
    EXPECT_EQ(run.data, "abc");
    EXPECT_EQ(run.consumed, input.size());
    EXPECT_TRUE(decoder.done());
    EXPECT_EQ(decoder.body_bytes(), 3u);
  }
}

TEST(ChunkedDecoder, NotDoneBeforeTheEndOfTheTrailerSection) {
  ChunkedDecoder decoder;
  const auto run = drive_whole(decoder, "3\r\nabc\r\n0\r\nX: 1\r\n");
  EXPECT_EQ(run.data, "abc");
  EXPECT_FALSE(decoder.done());
  EXPECT_FALSE(decoder.failed());
  EXPECT_EQ(decoder.feed(bytes("\r\n"), kNoLimit).consumed, 2u);
  EXPECT_TRUE(decoder.done());
}

TEST(ChunkedDecoder, StopsAtThePipelinedRequest) {
  const std::string body = "4\r\nWiki\r\n5\r\npedia\r\n0\r\nT: v\r\n\r\n";
  const std::string input = body + "GET / HTTP/1.1\r\n";
  for (const auto& pieces : {std::vector<std::size_t>{}, std::vector<std::size_t>{1}, std::vector<std::size_t>{7}}) {
    ChunkedDecoder decoder;
    const auto run = drive(decoder, input, pieces, kNoLimit);
    EXPECT_EQ(run.data, "Wikipedia");
    EXPECT_EQ(run.consumed, body.size());
    EXPECT_EQ(input[run.consumed], 'G');
    EXPECT_TRUE(decoder.done());
    const auto step = decoder.feed(bytes("GET / HTTP/1.1\r\n"), kNoLimit);
    EXPECT_EQ(step.consumed, 0u);
    EXPECT_TRUE(step.data.empty());
    EXPECT_TRUE(decoder.done());
  }
}

TEST(ChunkedDecoder, SizeLineSplitAcrossFeeds) {
  ChunkedDecoder decoder;
  auto step = decoder.feed(bytes("1"), kNoLimit);
  EXPECT_EQ(step.consumed, 1u);
  EXPECT_FALSE(decoder.in_data());
  step = decoder.feed(bytes("0\r\n"), kNoLimit);
  EXPECT_EQ(step.consumed, 3u);
  ASSERT_TRUE(decoder.in_data());
  EXPECT_EQ(decoder.data_remaining(), 16u);
}

TEST(ChunkedDecoder, LargestChunkSizeIsAccepted) {
  ChunkedDecoder decoder;
  EXPECT_EQ(decoder.feed(bytes("10000000000\r\n"), kNoLimit).consumed, 13u);
  EXPECT_FALSE(decoder.failed());
  ASSERT_TRUE(decoder.in_data());
  EXPECT_EQ(decoder.data_remaining(), ChunkedDecoder::kMaxChunkSize);
}

// Each failing input, fed whole and one byte at a time; `data` is what is handed back before the
// failure.
struct FailureCase {
  const char* name;
  std::string input;
  std::string data;
};

std::vector<FailureCase> failure_cases() {
  std::string many_trailers = "0\r\n";
  while (many_trailers.size() < ChunkedDecoder::kMaxTrailerBytes + 100) many_trailers += "X-Pad: 0123456789abcdef\r\n";
  return {
      {"empty size", "\r\n", ""},
      {"non-hex size", "zz\r\n", ""},
      {"space before size", " 5\r\nhello\r\n0\r\n\r\n", ""},
      {"junk after size", "5x\r\nhello\r\n0\r\n\r\n", ""},
      {"bare LF after size", "5\nhello\r\n", ""},
      {"bare LF after a two-digit size", "05\nhello\r\n0\r\n\r\n", ""},
      {"bare CR after size", "5\rhello\r\n", ""},
      {"missing CRLF after data", "5\r\nhelloXX", "hello"},
      {"bare LF after data", "5\r\nhello\n0\r\n\r\n", "hello"},
      {"CR then junk after data", "5\r\nhello\rX", "hello"},
      {"size line over the limit", "1;" + std::string(ChunkedDecoder::kMaxLineBytes, 'e'), ""},
      {"17 hex digits", "FFFFFFFFFFFFFFFFF\r\n", ""},
      {"size past 64 bits", "100000000000000000\r\n", ""},
      {"size one over the maximum", "10000000001\r\n", ""},
      {"trailer section over the limit", many_trailers, ""},
      {"one trailer line over the limit", "0\r\nX: " + std::string(ChunkedDecoder::kMaxTrailerBytes, 't'), ""},
      {"bare LF in trailer", "0\r\nX: 1\n\r\n", ""},
  };
}

TEST(ChunkedDecoder, FailuresAreFinal) {
  for (const auto& c : failure_cases()) {
    for (const auto& pieces : {std::vector<std::size_t>{}, std::vector<std::size_t>{1}}) {
      SCOPED_TRACE(std::string(c.name) + (pieces.empty() ? " (whole)" : " (1-byte pieces)"));
      ChunkedDecoder decoder;
      const auto run = drive(decoder, c.input, pieces, kNoLimit);
      EXPECT_EQ(run.data, c.data);
      EXPECT_EQ(decoder.body_bytes(), c.data.size());
      expect_failed_for_good(decoder);
    }
  }
}

TEST(ChunkedDecoder, FailureInTheMiddleOfABody) {
  ChunkedDecoder decoder;
  const auto run = drive_whole(decoder, "4\r\nWiki\r\nzz\r\n5\r\npedia\r\n0\r\n\r\n");
  EXPECT_EQ(run.data, "Wiki");
  expect_failed_for_good(decoder);
}

TEST(ChunkedDecoder, TrailerSectionWithinTheLimit) {
  std::string input = "1\r\nz\r\n0\r\n";
  while (input.size() < ChunkedDecoder::kMaxTrailerBytes / 2) input += "X-Pad: 0123456789abcdef\r\n";
  input += "\r\n";
  ChunkedDecoder decoder;
  const auto run = drive(decoder, input, {100}, kNoLimit);
  EXPECT_EQ(run.data, "z");
  EXPECT_EQ(run.consumed, input.size());
  EXPECT_TRUE(decoder.done());
}

}  // namespace
}  // namespace kvsd::http
