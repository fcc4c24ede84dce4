#include "net/tls_context.hpp"

#include <gtest/gtest.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include "net/openssl_ptr.hpp"
#include "support/temp_dir.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace kvsd::net {
namespace {

namespace fs = std::filesystem;

using namespace kvsd::openssl;  // NOLINT(google-build-using-namespace)
struct FileCloser {
  void operator()(FILE* f) const noexcept { std::fclose(f); }
};
using FilePtr = std::unique_ptr<FILE, FileCloser>;

// A fresh directory removed at the end of the test.
class TempDir : public kvsd::testing_support::TempDir {
 public:
  TempDir() : kvsd::testing_support::TempDir("kvsd-tls") {}
};

// A CA and a server certificate for "localhost" signed by it (EC P-256), made by the openssl
// command-line tool under `dir` (net does not link app's development certificate generator).
struct CertPaths {
  std::string ca_cert;      // ca.pem
  std::string server_cert;  // server.pem: leaf then CA
  std::string server_key;   // server-key.pem (PKCS#8 PEM)
};

CertPaths make_certificates(const fs::path& dir) {
  fs::create_directories(dir);
  const std::string d = dir.string();
  const std::string script =
      "set -e; cd '" + d +
      "'; "
      "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca-key.pem 2>/dev/null; "
      "openssl req -x509 -new -key ca-key.pem -subj /CN=kvsd-test-ca -days 2 -out ca.pem; "
      "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out server-key.pem 2>/dev/null; "
      "openssl req -new -key server-key.pem -subj /CN=localhost -out server.csr; "
      "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > san.ext; "
      "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 "
      "-extfile san.ext -out leaf.pem 2>/dev/null; "
      "cat leaf.pem ca.pem > server.pem";
  if (std::system(script.c_str()) != 0)
    throw std::runtime_error("openssl could not make the test certificates in " + d);
  return {d + "/ca.pem", d + "/server.pem", d + "/server-key.pem"};
}

// Certificates shared by every test of this file (generating them takes a moment).
class TlsContext : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new TempDir();
    certs_ = new CertPaths(make_certificates(tmp_->path() / "a"));
    other_ = new CertPaths(make_certificates(tmp_->path() / "b"));
  }
  static void TearDownTestSuite() {
    delete other_;
    delete certs_;
    delete tmp_;
  }

  static inline TempDir* tmp_ = nullptr;
  static inline CertPaths* certs_ = nullptr;
  static inline CertPaths* other_ = nullptr;  // a second, unrelated CA and leaf
};

struct ClientOptions {
  std::string_view alpn;  // wire format; empty: offer no ALPN
  int max_version = 0;    // 0: library default
  bool weak = false;      // allow legacy protocol versions on the client side
};

// Runs a TLS handshake between `server_ctx` and a verifying client (CA from `ca_file`, host
// "localhost") over an in-memory BIO pair. Returns true when both sides completed.
struct Handshake {
  SslPtr client;
  SslPtr server;
  bool ok = false;
};

Handshake handshake(SSL_CTX* server_ctx, const std::string& ca_file, const ClientOptions& opt) {
  SslCtxPtr cctx(SSL_CTX_new(TLS_client_method()));
  EXPECT_TRUE(cctx);
  EXPECT_EQ(SSL_CTX_load_verify_locations(cctx.get(), ca_file.c_str(), nullptr), 1);
  SSL_CTX_set_verify(cctx.get(), SSL_VERIFY_PEER, nullptr);
  if (opt.weak) {
    SSL_CTX_set_security_level(cctx.get(), 0);
    SSL_CTX_set_min_proto_version(cctx.get(), TLS1_VERSION);
    SSL_CTX_set_cipher_list(cctx.get(), "ALL:@SECLEVEL=0");
  }
  if (opt.max_version != 0) SSL_CTX_set_max_proto_version(cctx.get(), opt.max_version);

  Handshake h;
  h.client.reset(SSL_new(cctx.get()));
  h.server.reset(SSL_new(server_ctx));
  SSL_set1_host(h.client.get(), "localhost");
  SSL_set_tlsext_host_name(h.client.get(), "localhost");
  if (!opt.alpn.empty()) {
    EXPECT_EQ(SSL_set_alpn_protos(h.client.get(), reinterpret_cast<const unsigned char*>(opt.alpn.data()),
                                  static_cast<unsigned>(opt.alpn.size())),
              0);
  }
  BIO* client_bio = nullptr;
  BIO* server_bio = nullptr;
  EXPECT_EQ(BIO_new_bio_pair(&client_bio, 0, &server_bio, 0), 1);
  SSL_set_bio(h.client.get(), client_bio, client_bio);  // each SSL now owns its end
  SSL_set_bio(h.server.get(), server_bio, server_bio);
  SSL_set_connect_state(h.client.get());
  SSL_set_accept_state(h.server.get());

  auto step = [](SSL* ssl, bool& done) {
    if (done) return true;
    const int r = SSL_do_handshake(ssl);
    if (r == 1) {
      done = true;
      return true;
    }
    const int e = SSL_get_error(ssl, r);
    return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE;
  };
  bool client_done = false;
  bool server_done = false;
  for (int i = 0; i < 50 && !(client_done && server_done); ++i) {
    if (!step(h.client.get(), client_done) || !step(h.server.get(), server_done)) break;
  }
  ERR_clear_error();
  h.ok = client_done && server_done;
  return h;
}

constexpr std::string_view kOfferH2Http11{"\x02h2\x08http/1.1", 12};
constexpr std::string_view kOfferHttp11{"\x08http/1.1", 9};
constexpr std::string_view kOfferH2{"\x02h2", 3};
constexpr std::string_view kOfferOther{"\x06spdy/3", 7};

std::string load_error(const std::string& cert, const std::string& key) {
  try {
    make_server_tls_context(cert, key);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "no error";
}

TEST_F(TlsContext, LoadsDevCertificatesWithSafeDefaults) {
  auto ctx = make_server_tls_context(certs_->server_cert, certs_->server_key);
  SSL_CTX* native = ctx.native_handle();
  EXPECT_EQ(SSL_CTX_get_min_proto_version(native), TLS1_2_VERSION);
  const uint64_t opts = SSL_CTX_get_options(native);
  EXPECT_NE(opts & SSL_OP_NO_RENEGOTIATION, 0u);
  EXPECT_NE(opts & SSL_OP_NO_COMPRESSION, 0u);
  EXPECT_NE(opts & SSL_OP_CIPHER_SERVER_PREFERENCE, 0u);
  EXPECT_EQ(SSL_CTX_get_session_cache_mode(native) & SSL_SESS_CACHE_SERVER, SSL_SESS_CACHE_SERVER);
  EXPECT_EQ(SSL_CTX_check_private_key(native), 1);
}

TEST_F(TlsContext, MissingFilesAreNamed) {
  const std::string missing = (tmp_->path() / "nope.pem").string();
  const std::string cert_err = load_error(missing, certs_->server_key);
  EXPECT_NE(cert_err.find(missing), std::string::npos) << cert_err;
  EXPECT_NE(cert_err.find("No such file"), std::string::npos) << cert_err;
  const std::string key_err = load_error(certs_->server_cert, missing);
  EXPECT_NE(key_err.find(missing), std::string::npos) << key_err;
  EXPECT_NE(key_err.find("private key"), std::string::npos) << key_err;
  EXPECT_NE(load_error("", certs_->server_key).find("empty"), std::string::npos);
}

TEST_F(TlsContext, MismatchedKeyIsRejected) {
  const std::string err = load_error(certs_->server_cert, other_->server_key);
  EXPECT_NE(err.find("does not match"), std::string::npos) << err;
  EXPECT_NE(err.find(other_->server_key), std::string::npos) << err;
}

TEST_F(TlsContext, NonPemAndEncryptedFilesAreRejected) {
  const std::string junk = (tmp_->path() / "junk.pem").string();
  std::ofstream(junk) << "hello\n";
  const std::string cert_err = load_error(junk, certs_->server_key);
  EXPECT_NE(cert_err.find("certificate chain"), std::string::npos) << cert_err;
  EXPECT_NE(load_error(certs_->server_cert, junk).find("private key"), std::string::npos);
  // The key in place of the certificate and vice versa.
  EXPECT_THROW(make_server_tls_context(certs_->server_key, certs_->server_cert), std::runtime_error);

  // An encrypted key must fail at once, never prompt for a passphrase.
  const std::string encrypted = (tmp_->path() / "encrypted-key.pem").string();
  {
    FilePtr in(std::fopen(certs_->server_key.c_str(), "r"));
    ASSERT_TRUE(in);
    PkeyPtr key(PEM_read_PrivateKey(in.get(), nullptr, nullptr, nullptr));
    ASSERT_TRUE(key);
    FilePtr out(std::fopen(encrypted.c_str(), "w"));
    ASSERT_TRUE(out);
    char pass[] = "secret";
    ASSERT_EQ(PEM_write_PKCS8PrivateKey(out.get(), key.get(), EVP_aes_256_cbc(), pass, 6, nullptr, nullptr), 1);
  }
  EXPECT_NE(load_error(certs_->server_cert, encrypted).find("private key"), std::string::npos);
}

TEST_F(TlsContext, AlpnPrefersH2) {
  auto ctx = make_server_tls_context(certs_->server_cert, certs_->server_key);
  auto h = handshake(ctx.native_handle(), certs_->ca_cert, {kOfferH2Http11});
  ASSERT_TRUE(h.ok);
  EXPECT_EQ(SSL_get_verify_result(h.client.get()), X509_V_OK);
  EXPECT_EQ(selected_alpn(h.server.get()), "h2");
  EXPECT_EQ(selected_alpn(h.client.get()), "h2");
}

TEST_F(TlsContext, AlpnFallsBackToHttp11) {
  auto ctx = make_server_tls_context(certs_->server_cert, certs_->server_key);
  auto h = handshake(ctx.native_handle(), certs_->ca_cert, {kOfferHttp11});
  ASSERT_TRUE(h.ok);
  EXPECT_EQ(selected_alpn(h.server.get()), "http/1.1");

  auto none = handshake(ctx.native_handle(), certs_->ca_cert, {});
  ASSERT_TRUE(none.ok);
  EXPECT_EQ(selected_alpn(none.server.get()), "");

  auto other = handshake(ctx.native_handle(), certs_->ca_cert, {kOfferOther});
  ASSERT_TRUE(other.ok) << "no common protocol continues without ALPN";
  EXPECT_EQ(selected_alpn(other.server.get()), "");
}

TEST_F(TlsContext, AlpnWithoutH2OffersOnlyHttp11) {
  auto ctx = make_server_tls_context(certs_->server_cert, certs_->server_key, /*alpn_h2=*/false);
  auto h = handshake(ctx.native_handle(), certs_->ca_cert, {kOfferH2Http11});
  ASSERT_TRUE(h.ok);
  EXPECT_EQ(selected_alpn(h.server.get()), "http/1.1");
  EXPECT_EQ(selected_alpn(h.client.get()), "http/1.1");

  auto h2_only = handshake(ctx.native_handle(), certs_->ca_cert, {kOfferH2});
  ASSERT_TRUE(h2_only.ok);
  EXPECT_EQ(selected_alpn(h2_only.server.get()), "");
}

TEST_F(TlsContext, Tls12UsesForwardSecretAead) {
  auto ctx = make_server_tls_context(certs_->server_cert, certs_->server_key);
  auto h = handshake(ctx.native_handle(), certs_->ca_cert, {kOfferH2Http11, TLS1_2_VERSION});
  ASSERT_TRUE(h.ok);
  EXPECT_EQ(SSL_version(h.server.get()), TLS1_2_VERSION);
  EXPECT_STREQ(SSL_get_cipher_name(h.server.get()), "ECDHE-ECDSA-AES128-GCM-SHA256");
  EXPECT_EQ(selected_alpn(h.server.get()), "h2");
}

TEST_F(TlsContext, RejectsTls11) {
  auto ctx = make_server_tls_context(certs_->server_cert, certs_->server_key);
  auto h = handshake(ctx.native_handle(), certs_->ca_cert, {kOfferHttp11, TLS1_1_VERSION, /*weak=*/true});
  EXPECT_FALSE(h.ok);
  // Control: the same weak client gets through once the server allows TLS 1.1, so the refusal
  // above comes from the server's minimum version.
  SSL_CTX* native = ctx.native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_1_VERSION);
  SSL_CTX_clear_options(native, SSL_OP_NO_TLSv1_1);
  SSL_CTX_set_security_level(native, 0);
  SSL_CTX_set_cipher_list(native, "ALL:@SECLEVEL=0");
  auto control = handshake(native, certs_->ca_cert, {kOfferHttp11, TLS1_1_VERSION, /*weak=*/true});
  ASSERT_TRUE(control.ok);
  EXPECT_EQ(SSL_version(control.server.get()), TLS1_1_VERSION);
}

TEST_F(TlsContext, ClientRejectsAnUnrelatedCa) {
  auto ctx = make_server_tls_context(certs_->server_cert, certs_->server_key);
  auto h = handshake(ctx.native_handle(), other_->ca_cert, {kOfferH2Http11});
  EXPECT_FALSE(h.ok);
}

TEST(SelectedAlpn, NullAndFreshConnections) {
  EXPECT_EQ(selected_alpn(nullptr), "");
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  SslPtr ssl(SSL_new(ctx.get()));
  EXPECT_EQ(selected_alpn(ssl.get()), "");
}

}  // namespace
}  // namespace kvsd::net
