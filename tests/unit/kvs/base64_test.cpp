// kvs/base64.hpp: both forms against the RFC 4648 examples and OpenSSL's encoder, round trips of
// every length, and the non-canonical spellings that decoding refuses.

#include "kvs/base64.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <random>
#include <string>

namespace kvs {
namespace {

std::string openssl_encode(const std::string& raw) {
  std::string out(4 * ((raw.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(raw.data()), static_cast<int>(raw.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

TEST(Base64, Rfc4648Examples) {
  const std::pair<const char*, const char*> cases[] = {{"", ""},
                                                       {"f", "Zg=="},
                                                       {"fo", "Zm8="},
                                                       {"foo", "Zm9v"},
                                                       {"foob", "Zm9vYg=="},
                                                       {"fooba", "Zm9vYmE="},
                                                       {"foobar", "Zm9vYmFy"}};
  for (const auto& [raw, encoded] : cases) {
    EXPECT_EQ(base64_encode(raw), encoded);
    EXPECT_EQ(base64_decode(encoded), raw);
    std::string unpadded(encoded);
    while (!unpadded.empty() && unpadded.back() == '=') unpadded.pop_back();
    EXPECT_EQ(base64_encode(raw, Base64::url), unpadded);
    EXPECT_EQ(base64_decode(unpadded, Base64::url), raw);
  }
}

TEST(Base64, EveryLengthMatchesOpenSslAndRoundTrips) {
  std::mt19937 rng(7);
  for (std::size_t n = 0; n < 300; ++n) {
    std::string raw(n, '\0');
    for (auto& c : raw) c = static_cast<char>(rng());
    const auto standard = base64_encode(raw);
    ASSERT_EQ(standard, openssl_encode(raw)) << n;
    ASSERT_EQ(base64_decode(standard), raw) << n;
    auto url = standard;
    while (!url.empty() && url.back() == '=') url.pop_back();
    for (auto& c : url) c = c == '+' ? '-' : c == '/' ? '_' : c;
    ASSERT_EQ(base64_encode(raw, Base64::url), url) << n;
    ASSERT_EQ(base64_decode(url, Base64::url), raw) << n;
  }
}

TEST(Base64, RefusesWhatIsNotACanonicalEncoding) {
  // standard form
  EXPECT_FALSE(base64_decode("abc"));   // not padded to 4
  EXPECT_FALSE(base64_decode("Zg"));    // padding missing
  EXPECT_FALSE(base64_decode("a=b="));  // '=' inside
  EXPECT_FALSE(base64_decode("Z==="));  // three '='
  EXPECT_FALSE(base64_decode("===="));
  EXPECT_FALSE(base64_decode("Zh=="));  // leftover bits not zero ("Zg==" is the one spelling)
  EXPECT_FALSE(base64_decode("Zm9-"));  // url alphabet
  EXPECT_FALSE(base64_decode("Zm9v\n"));
  // url form
  EXPECT_FALSE(base64_decode("Zg==", Base64::url));  // padded
  EXPECT_FALSE(base64_decode("ab+c", Base64::url));  // standard alphabet
  EXPECT_FALSE(base64_decode("A", Base64::url));     // 6 bits: not a whole byte
  EXPECT_FALSE(base64_decode("AB", Base64::url));    // leftover bits not zero
  EXPECT_EQ(base64_decode("AA", Base64::url), std::string(1, '\0'));
}

TEST(Base64, TokenShapeOfTheModels) {
  EXPECT_TRUE(is_base64_token("YWJj", 10));
  EXPECT_TRUE(is_base64_token("YQ==", 10));
  EXPECT_TRUE(is_base64_token("YQ", 10));  // the pattern does not ask for a multiple of 4
  EXPECT_FALSE(is_base64_token("YQ===", 10));
  EXPECT_FALSE(is_base64_token("=", 10));
  EXPECT_FALSE(is_base64_token("", 10));
  EXPECT_FALSE(is_base64_token("!!", 10));
  EXPECT_FALSE(is_base64_token("Y=Q", 10));
  EXPECT_FALSE(is_base64_token("YWJjZGVm", 4));
}

}  // namespace
}  // namespace kvs
