#pragma once
// SHA-256 and HMAC-SHA256 for SigV4, on OpenSSL 3 (EVP). Every function here throws
// std::runtime_error only if OpenSSL itself fails (allocation); never because of its input.

#include <array>
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX, kept out of this header

namespace kvsd::auth {

using Digest = std::array<unsigned char, 32>;

// Lowercase hex of arbitrary bytes.
std::string to_hex(std::span<const unsigned char> bytes);

Digest sha256(std::string_view data);
// Lowercase hex SHA-256 of data (the SigV4 "HashedPayload" of a buffered body).
std::string sha256_hex(std::string_view data);
// The hash of the empty body, which the C producer signs for the streamed PutMedia body.
inline constexpr std::string_view kEmptySha256Hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// Incremental SHA-256 for bodies that arrive in pieces. Owns an EVP_MD_CTX; movable, not copyable;
// not thread-safe. After finish_hex() the hasher is reset and may be reused.
class Sha256 {
 public:
  Sha256();
  Sha256(Sha256&&) noexcept = default;
  Sha256& operator=(Sha256&&) noexcept = default;
  ~Sha256();

  void update(std::string_view data);
  [[nodiscard]] std::string finish_hex();

 private:
  struct Free {
    void operator()(evp_md_ctx_st* ctx) const noexcept;
  };
  std::unique_ptr<evp_md_ctx_st, Free> ctx_;
};

// HMAC-SHA256 with raw key bytes.
Digest hmac_sha256(std::span<const unsigned char> key, std::string_view data);

// SigV4 signing key: HMAC chain "AWS4"+secret -> date (yyyymmdd) -> region -> service -> "aws4_request".
Digest derive_signing_key(std::string_view secret, std::string_view date8, std::string_view region,
                          std::string_view service);

// True if a and b are equal, in time that depends only on their lengths (CRYPTO_memcmp).
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

// n bytes from OpenSSL's CSPRNG (keys, nonces, token ids). Throws std::runtime_error when the
// generator fails (it is not seeded).
std::string random_bytes(std::size_t n);

}  // namespace kvsd::auth
