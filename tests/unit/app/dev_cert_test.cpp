#include "app/dev_cert.hpp"

#include <gtest/gtest.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include "net/openssl_ptr.hpp"
#include "support/temp_dir.hpp"

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace kvsd::app {
namespace {

namespace fs = std::filesystem;

using namespace kvsd::openssl;  // NOLINT(google-build-using-namespace)

// A fresh directory removed at the end of the test.
class TempDir : public kvsd::testing_support::TempDir {
 public:
  TempDir() : kvsd::testing_support::TempDir("kvsd-dev-cert") {}
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void spit(const fs::path& p, const std::string& data) { std::ofstream(p, std::ios::binary | std::ios::trunc) << data; }

std::vector<X509Ptr> load_certs(const fs::path& p) {
  const std::string pem = slurp(p);
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  std::vector<X509Ptr> certs;
  while (X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) certs.emplace_back(x);
  ERR_clear_error();
  return certs;
}

PkeyPtr load_key(const fs::path& p) {
  const std::string pem = slurp(p);
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  return key;
}

std::string pem_of(X509* x) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), x);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

unsigned file_mode(const fs::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

// Verifies `leaf` against `ca` as a TLS server certificate for `name` (a host name, or an IP
// address when `ip`), with OpenSSL's strict X.509 checks. Returns the X509_V_* result.
int verify_for(X509* leaf, X509* ca, const std::string& name, bool ip) {
  StorePtr store(X509_STORE_new());
  StoreCtxPtr ctx(X509_STORE_CTX_new());
  X509_STORE_add_cert(store.get(), ca);
  X509_STORE_CTX_init(ctx.get(), store.get(), leaf, nullptr);
  X509_STORE_CTX_set_flags(ctx.get(), X509_V_FLAG_X509_STRICT);
  X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_SERVER);
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  if (ip) {
    EXPECT_EQ(X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str()), 1) << name;
  } else {
    EXPECT_EQ(X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size()), 1) << name;
  }
  const int ok = X509_verify_cert(ctx.get());
  const int err = X509_STORE_CTX_get_error(ctx.get());
  ERR_clear_error();
  return ok == 1 ? X509_V_OK : (err == X509_V_OK ? -1 : err);
}

// Whole days from now until `t` (negative when past).
int days_until(const ASN1_TIME* t) {
  int days = 0;
  int secs = 0;
  EXPECT_EQ(ASN1_TIME_diff(&days, &secs, nullptr, t), 1);
  return days;
}

struct Snapshot {
  std::string ca, ca_key, server, server_key;
  static Snapshot of(const fs::path& dir) {
    return {slurp(dir / "ca.pem"), slurp(dir / "ca-key.pem"), slurp(dir / "server.pem"), slurp(dir / "server-key.pem")};
  }
};

const std::vector<std::string> kExtra = {"cam-server.lan", "192.168.1.50", "[fe80::1]"};

TEST(DevCert, CreatesFilesWithPrivateModes) {
  TempDir tmp;
  const fs::path dir = tmp.path() / "data" / "tls";
  const auto paths = ensure_dev_certificates(dir.string(), kExtra);

  EXPECT_EQ(paths.ca_cert, (dir / "ca.pem").string());
  EXPECT_EQ(paths.server_cert, (dir / "server.pem").string());
  EXPECT_EQ(paths.server_key, (dir / "server-key.pem").string());
  EXPECT_EQ(file_mode(dir), 0700u);
  EXPECT_EQ(file_mode(dir / "ca-key.pem"), 0600u);
  EXPECT_EQ(file_mode(dir / "server-key.pem"), 0600u);
  EXPECT_EQ(file_mode(dir / "ca.pem"), 0644u);
  EXPECT_EQ(file_mode(dir / "server.pem"), 0644u);
  EXPECT_FALSE(fs::exists(dir / "server.pem.tmp"));

  const auto ca = load_certs(dir / "ca.pem");
  const auto chain = load_certs(dir / "server.pem");
  ASSERT_EQ(ca.size(), 1u);
  ASSERT_EQ(chain.size(), 2u);
  EXPECT_EQ(X509_cmp(chain[1].get(), ca[0].get()), 0) << "server.pem must be leaf then CA";
  EXPECT_EQ(X509_check_private_key(ca[0].get(), load_key(dir / "ca-key.pem").get()), 1);
  EXPECT_EQ(X509_check_private_key(chain[0].get(), load_key(dir / "server-key.pem").get()), 1);
}

TEST(DevCert, LeafVerifiesForEveryNameAndNoOther) {
  TempDir tmp;
  const auto paths = ensure_dev_certificates((tmp.path() / "tls").string(), kExtra);
  const auto ca = load_certs(paths.ca_cert);
  const auto chain = load_certs(paths.server_cert);
  ASSERT_EQ(ca.size(), 1u);
  ASSERT_FALSE(chain.empty());
  X509* leaf = chain[0].get();

  for (const char* host : {"localhost", "cam-server.lan", "CAM-Server.LAN"}) {
    EXPECT_EQ(verify_for(leaf, ca[0].get(), host, false), X509_V_OK) << host;
  }
  for (const char* ip : {"127.0.0.1", "::1", "192.168.1.50", "fe80::1"}) {
    EXPECT_EQ(verify_for(leaf, ca[0].get(), ip, true), X509_V_OK) << ip;
  }
  EXPECT_EQ(verify_for(leaf, ca[0].get(), "other.lan", false), X509_V_ERR_HOSTNAME_MISMATCH);
  EXPECT_EQ(verify_for(leaf, ca[0].get(), "10.0.0.1", true), X509_V_ERR_IP_ADDRESS_MISMATCH);
  // An address is never matched as a DNS name and vice versa.
  EXPECT_EQ(verify_for(leaf, ca[0].get(), "192.168.1.50", false), X509_V_ERR_HOSTNAME_MISMATCH);
}

TEST(DevCert, CertificateProfile) {
  TempDir tmp;
  const auto paths = ensure_dev_certificates((tmp.path() / "tls").string(), {});
  const auto ca_certs = load_certs(paths.ca_cert);
  const auto chain = load_certs(paths.server_cert);
  ASSERT_EQ(ca_certs.size(), 1u);
  ASSERT_FALSE(chain.empty());
  X509* ca = ca_certs[0].get();
  X509* leaf = chain[0].get();

  EXPECT_EQ(X509_get_version(ca), X509_VERSION_3);
  EXPECT_EQ(X509_get_version(leaf), X509_VERSION_3);
  EXPECT_EQ(X509_check_ca(ca), 1);
  EXPECT_EQ(X509_check_ca(leaf), 0);
  EXPECT_EQ(X509_self_signed(ca, 1), 1);
  EXPECT_EQ(X509_get_key_usage(ca), static_cast<uint32_t>(KU_KEY_CERT_SIGN | KU_CRL_SIGN));
  EXPECT_EQ(X509_get_key_usage(leaf), static_cast<uint32_t>(KU_DIGITAL_SIGNATURE));
  EXPECT_EQ(X509_get_extended_key_usage(leaf), static_cast<uint32_t>(XKU_SSL_SERVER));
  EXPECT_EQ(X509_get_extension_flags(leaf) & EXFLAG_CA, 0u);

  const ASN1_OCTET_STRING* ca_skid = X509_get0_subject_key_id(ca);
  const ASN1_OCTET_STRING* leaf_skid = X509_get0_subject_key_id(leaf);
  const ASN1_OCTET_STRING* leaf_akid = X509_get0_authority_key_id(leaf);
  ASSERT_NE(ca_skid, nullptr);
  ASSERT_NE(leaf_skid, nullptr);
  ASSERT_NE(leaf_akid, nullptr);
  EXPECT_EQ(ASN1_OCTET_STRING_cmp(leaf_akid, ca_skid), 0);

  for (X509* x : {ca, leaf}) {
    EXPECT_EQ(X509_get_signature_nid(x), NID_ecdsa_with_SHA256);
    EVP_PKEY* pub = X509_get0_pubkey(x);
    ASSERT_NE(pub, nullptr);
    EXPECT_TRUE(EVP_PKEY_is_a(pub, "EC"));
    EXPECT_EQ(EVP_PKEY_get_bits(pub), 256);
    const ASN1_INTEGER* serial = X509_get0_serialNumber(x);
    EXPECT_EQ(ASN1_STRING_type(serial), V_ASN1_INTEGER) << "serial must be positive";
    EXPECT_GE(ASN1_STRING_length(serial), 8);
    EXPECT_LE(days_until(X509_get0_notBefore(x)), 0);
  }
  EXPECT_NE(ASN1_INTEGER_cmp(X509_get0_serialNumber(ca), X509_get0_serialNumber(leaf)), 0);
  EXPECT_NEAR(days_until(X509_get0_notAfter(ca)), 3650, 1);
  EXPECT_NEAR(days_until(X509_get0_notAfter(leaf)), 825, 1);
}

TEST(DevCert, SecondCallReusesEverything) {
  TempDir tmp;
  const fs::path dir = tmp.path() / "tls";
  ensure_dev_certificates(dir.string(), kExtra);
  const auto before = Snapshot::of(dir);
  ensure_dev_certificates(dir.string(), kExtra);
  // A subset of the names (and a duplicate of a default one) is still covered.
  ensure_dev_certificates(dir.string(), {"192.168.1.50", "localhost", ""});
  const auto after = Snapshot::of(dir);
  EXPECT_EQ(before.ca, after.ca);
  EXPECT_EQ(before.ca_key, after.ca_key);
  EXPECT_EQ(before.server, after.server);
  EXPECT_EQ(before.server_key, after.server_key);
}

TEST(DevCert, NewNameRegeneratesOnlyTheLeaf) {
  TempDir tmp;
  const fs::path dir = tmp.path() / "tls";
  ensure_dev_certificates(dir.string(), kExtra);
  const auto before = Snapshot::of(dir);

  auto extra = kExtra;
  extra.push_back("nvr.example.com");
  const auto paths = ensure_dev_certificates(dir.string(), extra);
  const auto after = Snapshot::of(dir);
  EXPECT_EQ(before.ca, after.ca);
  EXPECT_EQ(before.ca_key, after.ca_key);
  EXPECT_NE(before.server, after.server);
  EXPECT_NE(before.server_key, after.server_key);

  const auto ca = load_certs(paths.ca_cert);
  const auto chain = load_certs(paths.server_cert);
  ASSERT_EQ(ca.size(), 1u);
  ASSERT_FALSE(chain.empty());
  EXPECT_EQ(verify_for(chain[0].get(), ca[0].get(), "nvr.example.com", false), X509_V_OK);
  EXPECT_EQ(verify_for(chain[0].get(), ca[0].get(), "cam-server.lan", false), X509_V_OK);
  EXPECT_EQ(verify_for(chain[0].get(), ca[0].get(), "127.0.0.1", true), X509_V_OK);
}

TEST(DevCert, ExpiringLeafIsRenewed) {
  TempDir tmp;
  const fs::path dir = tmp.path() / "tls";
  ensure_dev_certificates(dir.string(), kExtra);

  // Re-sign the leaf so that it expires in 10 days.
  auto ca = load_certs(dir / "ca.pem");
  auto chain = load_certs(dir / "server.pem");
  ASSERT_EQ(ca.size(), 1u);
  ASSERT_FALSE(chain.empty());
  const PkeyPtr ca_key = load_key(dir / "ca-key.pem");
  ASSERT_TRUE(ca_key);
  ASSERT_NE(X509_time_adj_ex(X509_getm_notAfter(chain[0].get()), 10, 0, nullptr), nullptr);
  ASSERT_NE(X509_sign(chain[0].get(), ca_key.get(), EVP_sha256()), 0);
  spit(dir / "server.pem", pem_of(chain[0].get()) + pem_of(ca[0].get()));
  const auto before = Snapshot::of(dir);

  ensure_dev_certificates(dir.string(), kExtra);
  const auto after = Snapshot::of(dir);
  EXPECT_EQ(before.ca, after.ca);
  EXPECT_NE(before.server, after.server);
  const auto renewed = load_certs(dir / "server.pem");
  ASSERT_FALSE(renewed.empty());
  EXPECT_NEAR(days_until(X509_get0_notAfter(renewed[0].get())), 825, 1);
}

TEST(DevCert, BrokenCaIsReplacedWithItsLeaf) {
  TempDir tmp;
  const fs::path dir = tmp.path() / "tls";
  ensure_dev_certificates(dir.string(), kExtra);
  const auto before = Snapshot::of(dir);

  spit(dir / "ca-key.pem", before.server_key);  // a valid key that does not match the CA
  const auto paths = ensure_dev_certificates(dir.string(), kExtra);
  const auto after = Snapshot::of(dir);
  EXPECT_NE(before.ca, after.ca);
  EXPECT_NE(before.server, after.server);
  EXPECT_EQ(file_mode(dir / "ca-key.pem"), 0600u);

  const auto ca = load_certs(paths.ca_cert);
  const auto chain = load_certs(paths.server_cert);
  ASSERT_EQ(ca.size(), 1u);
  ASSERT_EQ(chain.size(), 2u);
  EXPECT_EQ(verify_for(chain[0].get(), ca[0].get(), "localhost", false), X509_V_OK);
  EXPECT_EQ(X509_check_private_key(ca[0].get(), load_key(dir / "ca-key.pem").get()), 1);
}

TEST(DevCert, GarbageFilesAreReplaced) {
  TempDir tmp;
  const fs::path dir = tmp.path() / "tls";
  ensure_dev_certificates(dir.string(), {});
  const auto ca_before = slurp(dir / "ca.pem");
  spit(dir / "server.pem", "not a certificate\n");
  spit(dir / "server-key.pem", "");
  ensure_dev_certificates(dir.string(), {});
  EXPECT_EQ(slurp(dir / "ca.pem"), ca_before);
  EXPECT_EQ(load_certs(dir / "server.pem").size(), 2u);
  EXPECT_TRUE(load_key(dir / "server-key.pem"));
}

TEST(DevCert, UnreadableFileIsAnErrorNotReplaced) {
  TempDir tmp;
  const fs::path dir = tmp.path() / "tls";
  ensure_dev_certificates(dir.string(), {});
  const auto ca_before = slurp(dir / "ca.pem");
  fs::remove(dir / "ca-key.pem");
  fs::create_directory(dir / "ca-key.pem");  // exists, cannot be read as a file (even by root)
  EXPECT_THROW(ensure_dev_certificates(dir.string(), {}), std::runtime_error);
  EXPECT_EQ(slurp(dir / "ca.pem"), ca_before);
}

TEST(DevCert, RejectsInvalidNamesBeforeWriting) {
  TempDir tmp;
  const fs::path dir = tmp.path() / "tls";
  for (const char* bad : {"bad name", "a..b", "host:80", ".lan", "-", "fe80::1%eth0", "caf\xc3\xa9.lan"}) {
    EXPECT_THROW(ensure_dev_certificates(dir.string(), {bad}), std::invalid_argument) << bad;
  }
  EXPECT_FALSE(fs::exists(dir));
}

}  // namespace
}  // namespace kvsd::app
