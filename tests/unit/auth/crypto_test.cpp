// SHA-256 / HMAC helpers (src/auth/crypto.hpp) against published vectors.

#include "auth/crypto.hpp"

#include <gtest/gtest.h>

#include <string>

namespace kvsd::auth {
namespace {

TEST(SigV4Crypto, Sha256) {
  EXPECT_EQ(sha256_hex(""), kEmptySha256Hex);
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(SigV4Crypto, IncrementalSha256MatchesOneShotAndResets) {
  Sha256 h;
  h.update("a");
  h.update("");
  h.update("bc");
  EXPECT_EQ(h.finish_hex(), sha256_hex("abc"));
  EXPECT_EQ(h.finish_hex(), kEmptySha256Hex);
  Sha256 moved = std::move(h);
  moved.update("abc");
  EXPECT_EQ(moved.finish_hex(), sha256_hex("abc"));
}

TEST(SigV4Crypto, HmacRfc4231Case2) {
  std::string key = "Jefe";
  Digest d =
      hmac_sha256({reinterpret_cast<const unsigned char*>(key.data()), key.size()}, "what do ya want for nothing?");
  EXPECT_EQ(to_hex(d), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(SigV4Crypto, SigningKeyFromAwsDocs) {
  // "Derive a signing key for SigV4" example (IAM, 2012-02-15).
  EXPECT_EQ(to_hex(derive_signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam")),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
}

TEST(SigV4Crypto, ConstantTimeEqual) {
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "ab"));
}

}  // namespace
}  // namespace kvsd::auth
