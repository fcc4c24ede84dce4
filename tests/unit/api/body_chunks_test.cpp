// BodyChunks: reads fill chunks in turn; ranges cut out are the body bytes, shared with the
// chunks (not copied) and valid after the chunks are released; released bytes cannot be cut.

#include "api/body_chunks.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <numeric>
#include <vector>

namespace kvsd::api {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes joined(const kvs::StagedPart& part) {
  Bytes out;
  for (const auto& r : part) out.insert(out.end(), r.bytes.begin(), r.bytes.end());
  return out;
}

// Reads `body` in reads of `read` bytes into chunks of `chunk` bytes.
void read_all(BodyChunks& chunks, const Bytes& body, std::size_t read, std::size_t chunk) {
  std::size_t at = 0;
  while (at < body.size()) {
    auto space = chunks.free_space(chunk);
    const auto n = std::min({read, space.size(), body.size() - at});
    std::copy_n(body.begin() + static_cast<std::ptrdiff_t>(at), n, space.begin());
    chunks.filled(n);
    at += n;
  }
}

Bytes sample(std::size_t n) {
  Bytes b(n);
  std::iota(b.begin(), b.end(), std::uint8_t{7});
  return b;
}

TEST(BodyChunks, CutsAreTheBodyBytesAcrossChunks) {
  const Bytes body = sample(1000);
  BodyChunks chunks;
  read_all(chunks, body, 70, 256);
  EXPECT_EQ(chunks.size(), 1000u);
  EXPECT_EQ(chunks.chunk_count(), 4u);  // 256 + 256 + 256 + 232
  for (const auto& [from, to] :
       {std::pair<std::uint64_t, std::uint64_t>{0, 1000}, {255, 257}, {100, 900}, {999, 1000}}) {
    const auto part = chunks.cut(from, to);
    ASSERT_TRUE(part) << from << ".." << to;
    EXPECT_EQ(joined(*part),
              Bytes(body.begin() + static_cast<std::ptrdiff_t>(from), body.begin() + static_cast<std::ptrdiff_t>(to)))
        << from << ".." << to;
  }
  EXPECT_EQ(chunks.cut(100, 600)->size(), 3u);  // one range per chunk touched
  EXPECT_TRUE(chunks.cut(500, 500)->empty());
  EXPECT_FALSE(chunks.cut(900, 1001)) << "bytes not read yet";
}

TEST(BodyChunks, ReleasedChunksCannotBeCutButCutRangesStayValid) {
  const Bytes body = sample(800);
  BodyChunks chunks;
  read_all(chunks, body, 100, 200);
  const auto early = chunks.cut(50, 350);
  ASSERT_TRUE(early);
  chunks.release_before(450);  // chunks [0,200) and [200,400) go
  EXPECT_EQ(chunks.chunk_count(), 2u);
  EXPECT_FALSE(chunks.cut(399, 500));
  ASSERT_TRUE(chunks.cut(400, 800));
  EXPECT_EQ(joined(*chunks.cut(400, 800)), Bytes(body.begin() + 400, body.end()));
  EXPECT_EQ(joined(*early), Bytes(body.begin() + 50, body.begin() + 350));  // shared, still alive
  chunks.release_before(10'000);                                            // the last chunk stays for the next reads
  EXPECT_EQ(chunks.chunk_count(), 1u);
}

TEST(BodyChunks, ReadsFillTheLastChunkBeforeANewOne) {
  BodyChunks chunks;
  auto first = chunks.free_space(64);
  ASSERT_EQ(first.size(), 64u);
  chunks.filled(10);
  auto rest = chunks.free_space(1024);  // the chunk size only applies to a new chunk
  EXPECT_EQ(rest.size(), 54u);
  EXPECT_EQ(rest.data(), first.data() + 10);
  chunks.filled(54);
  EXPECT_EQ(chunks.free_space(1024).size(), 1024u);
  EXPECT_EQ(chunks.chunk_count(), 2u);
}

}  // namespace
}  // namespace kvsd::api
