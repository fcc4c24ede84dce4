#include "app/dev_cert.hpp"

#include "net/openssl_ptr.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string_view>

namespace kvsd::app {

namespace fs = std::filesystem;

namespace {

using namespace kvsd::openssl;  // NOLINT(google-build-using-namespace): owning pointer aliases

constexpr long kDay = 24L * 60 * 60;
constexpr long kCaValidDays = 3650;
constexpr long kLeafValidDays = 825;  // the most Apple platforms accept for a TLS server certificate
constexpr long kRenewWithinDays = 30;
constexpr long kBackdateSeconds = 3600;  // tolerate producers whose clock runs a little behind
constexpr std::size_t kMaxPemBytes = 1 << 20;

// Drains this thread's OpenSSL error queue into one line.
std::string openssl_errors() {
  std::string text;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!text.empty()) text += "; ";
    text += buf;
  }
  return text.empty() ? "unknown OpenSSL error" : text;
}

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error("dev certificate: " + what + ": " + openssl_errors());
}

// Refuses encrypted keys instead of prompting on the terminal.
int no_password_cb(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*userdata*/) { return -1; }

// ---- names ----

// One subjectAltName entry: an IP address (raw 4 or 16 bytes) or a lowercase DNS name.
struct SanName {
  bool ip = false;
  std::string value;
  std::string text;  // as written, for messages
  bool operator==(const SanName& o) const { return ip == o.ip && value == o.value; }
};

bool valid_dns_name(std::string_view name) {
  if (name.size() > 253) return false;
  if (name.starts_with("*.")) name.remove_prefix(2);
  if (name.empty()) return false;
  std::size_t label = 0;
  char prev = '.';
  for (const char c : name) {
    if (c == '.') {
      if (label == 0 || prev == '-') return false;
      label = 0;
    } else {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || (c == '-' && label != 0);
      if (!ok || ++label > 63) return false;
    }
    prev = c;
  }
  return label != 0 && prev != '-';
}

// Empty (after trimming blanks) gives nullopt; throws std::invalid_argument on a bad name.
std::optional<SanName> parse_name(std::string_view raw) {
  while (!raw.empty() && (raw.front() == ' ' || raw.front() == '\t')) raw.remove_prefix(1);
  while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\t')) raw.remove_suffix(1);
  if (raw.empty()) return std::nullopt;
  std::string text(raw);
  std::string addr = text;
  if (addr.size() > 2 && addr.front() == '[' && addr.back() == ']') addr = addr.substr(1, addr.size() - 2);

  unsigned char bytes[16];
  if (inet_pton(AF_INET, addr.c_str(), bytes) == 1) {
    return SanName{true, std::string(reinterpret_cast<const char*>(bytes), 4), text};
  }
  if (inet_pton(AF_INET6, addr.c_str(), bytes) == 1) {
    return SanName{true, std::string(reinterpret_cast<const char*>(bytes), 16), text};
  }
  std::string lower = text;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c); });
  if (!valid_dns_name(lower)) {
    throw std::invalid_argument("TLS name '" + text + "' is neither an IP address nor a valid DNS name");
  }
  return SanName{false, lower, text};
}

// localhost, 127.0.0.1, ::1, then `extra` in order, without duplicates.
std::vector<SanName> required_names(const std::vector<std::string>& extra) {
  std::vector<SanName> names;
  auto add = [&names](std::string_view raw) {
    if (auto n = parse_name(raw); n && std::find(names.begin(), names.end(), *n) == names.end()) {
      names.push_back(std::move(*n));
    }
  };
  add("localhost");
  add("127.0.0.1");
  add("::1");
  for (const auto& e : extra) add(e);
  return names;
}

// ---- files ----

class UniqueFd {
 public:
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  // Closes now and reports the error close() returned (0 on success).
  int close() {
    const int r = ::close(fd_);
    fd_ = -1;
    return r < 0 ? errno : 0;
  }

 private:
  int fd_;
};

[[noreturn]] void fail_errno(const std::string& what, int err) {
  throw std::runtime_error("dev certificate: " + what + ": " + std::strerror(err));
}

// nullopt when the file does not exist; oversized files read as "" (invalid PEM, so replaced).
// Throws when the file exists but cannot be read (e.g. another user's 0600 key): replacing a CA
// that clients already trust must not happen by accident.
std::optional<std::string> read_small_file(const fs::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    const int err = errno;
    if (err == ENOENT) return std::nullopt;
    fail_errno("cannot read " + path.string(), err);
  }
  std::string data;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      const int err = errno;
      if (err == EINTR) continue;
      fail_errno("cannot read " + path.string(), err);
    }
    data.append(buf, static_cast<std::size_t>(n));
    if (data.size() > kMaxPemBytes) return std::string();
  }
  return data;
}

// Replaces `path` with `data` atomically and durably; the file gets exactly `mode`.
void write_file_atomic(const fs::path& path, std::string_view data, mode_t mode) {
  const std::string tmp = path.string() + ".tmp";
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode));
  if (fd.get() < 0) {
    const int err = errno;
    fail_errno("cannot create " + tmp, err);
  }
  // `err` is read by the caller before anything else can clobber errno.
  auto fail_and_unlink = [&tmp](const char* what, int err) {
    ::unlink(tmp.c_str());
    fail_errno(std::string(what) + " " + tmp, err);
  };
  if (::fchmod(fd.get(), mode) != 0) fail_and_unlink("cannot chmod", errno);
  while (!data.empty()) {
    const ssize_t n = ::write(fd.get(), data.data(), data.size());
    if (n < 0) {
      const int err = errno;
      if (err == EINTR) continue;
      fail_and_unlink("cannot write", err);
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  if (::fsync(fd.get()) != 0) fail_and_unlink("cannot fsync", errno);
  if (const int err = fd.close(); err != 0) fail_and_unlink("cannot close", err);
  if (::rename(tmp.c_str(), path.c_str()) != 0) fail_and_unlink("cannot rename into place", errno);
}

void fsync_directory(const fs::path& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() >= 0) ::fsync(fd.get());  // best effort: the files themselves are already durable
}

// ---- PEM ----

BioPtr memory_bio(std::string_view data) {
  BioPtr bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
  if (!bio) fail("BIO_new_mem_buf");
  return bio;
}

// Every certificate in `pem`, in order; empty when none parses.
std::vector<X509Ptr> parse_certs(std::string_view pem) {
  std::vector<X509Ptr> certs;
  auto bio = memory_bio(pem);
  while (X509* raw = PEM_read_bio_X509(bio.get(), nullptr, no_password_cb, nullptr)) certs.emplace_back(raw);
  ERR_clear_error();  // the end of the data reads as an error
  return certs;
}

PkeyPtr parse_key(std::string_view pem) {
  auto bio = memory_bio(pem);
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_password_cb, nullptr));
  ERR_clear_error();
  return key;
}

std::string bio_contents(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(len));
}

std::string cert_pem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) fail("cannot encode a certificate");
  return bio_contents(bio.get());
}

std::string key_pem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    fail("cannot encode a private key");
  }
  return bio_contents(bio.get());
}

// ---- checks ----

// True when `t` is later than now + `days`.
bool after_days_from_now(const ASN1_TIME* t, long days) {
  std::time_t when = std::time(nullptr) + days * kDay;
  return X509_cmp_time(t, &when) > 0;
}

// "" when `ca` + `key` are a usable CA, else why not.
std::string ca_problem(X509* ca, EVP_PKEY* key) {
  std::string problem;
  if (X509_check_private_key(ca, key) != 1) {
    problem = "ca-key.pem does not match ca.pem";
  } else if (X509_check_ca(ca) < 1 || X509_self_signed(ca, 1) != 1) {
    problem = "ca.pem is not a self-signed CA certificate";
  } else if (X509_cmp_time(X509_get0_notBefore(ca), nullptr) >= 0) {
    problem = "ca.pem is not valid yet";
  } else if (!after_days_from_now(X509_get0_notAfter(ca), kRenewWithinDays)) {
    problem = "ca.pem expires within 30 days";
  }
  ERR_clear_error();
  return problem;
}

bool san_covers(X509* cert, const std::vector<SanName>& names) {
  GeneralNamesPtr gens(static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (!gens) return false;
  std::vector<SanName> present;
  for (int i = 0; i < sk_GENERAL_NAME_num(gens.get()); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(gens.get(), i);
    if (gn->type == GEN_DNS) {
      const ASN1_STRING* s = gn->d.dNSName;
      std::string v(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                    static_cast<std::size_t>(ASN1_STRING_length(s)));
      std::transform(v.begin(), v.end(), v.begin(),
                     [](unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c); });
      present.push_back(SanName{false, std::move(v), {}});
    } else if (gn->type == GEN_IPADD) {
      const ASN1_STRING* s = gn->d.iPAddress;
      present.push_back(SanName{true,
                                std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                            static_cast<std::size_t>(ASN1_STRING_length(s))),
                                {}});
    }
  }
  return std::all_of(names.begin(), names.end(), [&present](const SanName& n) {
    return std::find(present.begin(), present.end(), n) != present.end();
  });
}

// "" when `chain` (leaf, CA) + `key` are a usable server certificate under `ca`, else why not.
std::string leaf_problem(const std::vector<X509Ptr>& chain, EVP_PKEY* key, X509* ca,
                         const std::vector<SanName>& names) {
  if (chain.empty()) return "server.pem holds no certificate";
  X509* leaf = chain[0].get();
  if (chain.size() != 2 || X509_cmp(chain[1].get(), ca) != 0) return "server.pem does not carry the current CA";
  if (X509_check_private_key(leaf, key) != 1) {
    ERR_clear_error();
    return "server-key.pem does not match server.pem";
  }

  StorePtr store(X509_STORE_new());
  StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!store || !ctx || X509_STORE_add_cert(store.get(), ca) != 1 ||
      X509_STORE_CTX_init(ctx.get(), store.get(), leaf, nullptr) != 1) {
    fail("cannot set up certificate verification");
  }
  X509_STORE_CTX_set_flags(ctx.get(), X509_V_FLAG_X509_STRICT);
  X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_SERVER);
  if (X509_verify_cert(ctx.get()) != 1) {
    const int err = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    return std::string("server.pem does not verify against ca.pem: ") + X509_verify_cert_error_string(err);
  }
  if (!after_days_from_now(X509_get0_notAfter(leaf), kRenewWithinDays)) return "server.pem expires within 30 days";
  if (!san_covers(leaf, names)) return "server.pem does not cover every configured name";
  return {};
}

// ---- generation ----

PkeyPtr new_p256_key() {
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) fail("cannot generate an EC P-256 key");
  return key;
}

void set_random_serial(X509* cert) {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) fail("RAND_bytes");
  bytes[0] = static_cast<unsigned char>((bytes[0] & 0x7f) | 0x40);  // positive, fixed length, non-zero
  BignumPtr bn(BN_bin2bn(bytes, sizeof bytes, nullptr));
  if (!bn) fail("BN_bin2bn");
  Asn1IntegerPtr serial(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  if (!serial || X509_set_serialNumber(cert, serial.get()) != 1) fail("cannot set a serial number");
}

void add_name_entry(X509_NAME* name, const char* field, const std::string& value) {
  if (X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(value.c_str()), -1,
                                 -1, 0) != 1) {
    fail(std::string("cannot set subject ") + field);
  }
}

// Adds an extension given in openssl.cnf syntax; `issuer` provides the authority key id.
void add_extension(X509* subject, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx{};
  X509V3_set_ctx(&ctx, issuer, subject, nullptr, nullptr, 0);
  ExtensionPtr ext(X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value));
  if (!ext || X509_add_ext(subject, ext.get(), -1) != 1) fail(std::string("cannot add extension ") + OBJ_nid2sn(nid));
}

// A v3 certificate with serial, validity (from now - 1 h to now + `days`) and `key`'s public key.
X509Ptr new_certificate(EVP_PKEY* key, long days) {
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) fail("X509_new");
  set_random_serial(cert.get());
  if (X509_gmtime_adj(X509_getm_notBefore(cert.get()), -kBackdateSeconds) == nullptr ||
      X509_time_adj_ex(X509_getm_notAfter(cert.get()), static_cast<int>(days), 0, nullptr) == nullptr) {
    fail("cannot set the validity period");
  }
  if (X509_set_pubkey(cert.get(), key) != 1) fail("X509_set_pubkey");
  return cert;
}

std::string short_hostname() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') return "localhost";
  std::string h(host);
  return h.substr(0, std::min<std::size_t>(h.find('.'), 24));
}

std::string random_hex(std::size_t bytes) {
  std::vector<unsigned char> b(bytes);
  if (RAND_bytes(b.data(), static_cast<int>(b.size())) != 1) fail("RAND_bytes");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  for (const unsigned char c : b) {
    s += kHex[c >> 4];
    s += kHex[c & 0xf];
  }
  return s;
}

X509Ptr make_ca(EVP_PKEY* key) {
  X509Ptr ca = new_certificate(key, kCaValidDays);
  X509_NAME* name = X509_get_subject_name(ca.get());
  add_name_entry(name, "O", "kvsd development");
  // Unique per CA, so that several trusted dev CAs never share a subject.
  add_name_entry(name, "CN", "kvsd development CA " + short_hostname() + " " + random_hex(4));
  if (X509_set_issuer_name(ca.get(), name) != 1) fail("X509_set_issuer_name");
  add_extension(ca.get(), ca.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
  add_extension(ca.get(), ca.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
  add_extension(ca.get(), ca.get(), NID_subject_key_identifier, "hash");
  add_extension(ca.get(), ca.get(), NID_authority_key_identifier, "keyid:always");
  if (X509_sign(ca.get(), key, EVP_sha256()) == 0) fail("cannot sign the CA certificate");
  return ca;
}

void add_san(X509* cert, const std::vector<SanName>& names) {
  GeneralNamesPtr gens(GENERAL_NAMES_new());
  if (!gens) fail("GENERAL_NAMES_new");
  for (const auto& n : names) {
    GeneralNamePtr gn(GENERAL_NAME_new());
    if (!gn) fail("GENERAL_NAME_new");
    if (n.ip) {
      Asn1OctetStringPtr os(ASN1_OCTET_STRING_new());
      if (!os || ASN1_OCTET_STRING_set(os.get(), reinterpret_cast<const unsigned char*>(n.value.data()),
                                       static_cast<int>(n.value.size())) != 1) {
        fail("cannot encode an IP SAN");
      }
      GENERAL_NAME_set0_value(gn.get(), GEN_IPADD, os.release());
    } else {
      Asn1Ia5StringPtr s(ASN1_IA5STRING_new());
      if (!s || ASN1_STRING_set(s.get(), n.value.data(), static_cast<int>(n.value.size())) != 1) {
        fail("cannot encode a DNS SAN");
      }
      GENERAL_NAME_set0_value(gn.get(), GEN_DNS, s.release());
    }
    if (sk_GENERAL_NAME_push(gens.get(), gn.get()) == 0) fail("sk_GENERAL_NAME_push");
    gn.release();  // owned by gens now
  }
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, gens.get(), 0, X509V3_ADD_DEFAULT) != 1) {
    fail("cannot add subjectAltName");
  }
}

X509Ptr make_leaf(EVP_PKEY* key, X509* ca, EVP_PKEY* ca_key, const std::vector<SanName>& names) {
  X509Ptr leaf = new_certificate(key, kLeafValidDays);
  if (ASN1_TIME_compare(X509_get0_notAfter(ca), X509_get0_notAfter(leaf.get())) < 0 &&
      X509_set1_notAfter(leaf.get(), X509_get0_notAfter(ca)) != 1) {
    fail("cannot cap the validity period");
  }
  X509_NAME* name = X509_get_subject_name(leaf.get());
  add_name_entry(name, "O", "kvsd development");
  add_name_entry(name, "CN", "localhost");
  if (X509_set_issuer_name(leaf.get(), X509_get_subject_name(ca)) != 1) fail("X509_set_issuer_name");
  add_extension(leaf.get(), ca, NID_basic_constraints, "critical,CA:FALSE");
  add_extension(leaf.get(), ca, NID_key_usage, "critical,digitalSignature");
  add_extension(leaf.get(), ca, NID_ext_key_usage, "serverAuth");
  add_extension(leaf.get(), ca, NID_subject_key_identifier, "hash");
  add_extension(leaf.get(), ca, NID_authority_key_identifier, "keyid:always");
  add_san(leaf.get(), names);
  if (X509_sign(leaf.get(), ca_key, EVP_sha256()) == 0) fail("cannot sign the server certificate");
  return leaf;
}

std::string describe(const std::vector<SanName>& names) {
  std::string s;
  for (const auto& n : names) {
    if (!s.empty()) s += ", ";
    s += (n.ip ? "IP:" : "DNS:") + n.text;
  }
  return s;
}

}  // namespace

DevCertPaths ensure_dev_certificates(const std::string& dir, const std::vector<std::string>& extra_names) {
  const std::vector<SanName> names = required_names(extra_names);  // validate before touching disk

  const fs::path root(dir);
  if (!fs::is_directory(root)) {
    fs::create_directories(root);
    fs::permissions(root, fs::perms::owner_all, fs::perm_options::replace);
  }
  const fs::path ca_path = root / "ca.pem";
  const fs::path ca_key_path = root / "ca-key.pem";
  const fs::path leaf_path = root / "server.pem";
  const fs::path leaf_key_path = root / "server-key.pem";
  DevCertPaths paths{ca_path.string(), leaf_path.string(), leaf_key_path.string()};

  // The CA: reuse when usable.
  X509Ptr ca;
  PkeyPtr ca_key;
  std::string problem;
  const auto ca_text = read_small_file(ca_path);
  const auto ca_key_text = read_small_file(ca_key_path);
  if (!ca_text && !ca_key_text) {
    problem = "missing";
  } else if (!ca_text || !ca_key_text) {
    problem = !ca_text ? "ca.pem is missing" : "ca-key.pem is missing";
  } else {
    auto certs = parse_certs(*ca_text);
    ca_key = parse_key(*ca_key_text);
    if (certs.empty() || !ca_key) {
      problem = "ca.pem or ca-key.pem is not valid PEM";
    } else {
      ca = std::move(certs.front());
      problem = ca_problem(ca.get(), ca_key.get());
    }
  }
  bool wrote = false;
  if (!problem.empty()) {
    if (problem != "missing") {
      spdlog::warn("replacing the development CA in {} ({}); clients must trust the new {}", dir, problem,
                   paths.ca_cert);
    }
    ca_key = new_p256_key();
    ca = make_ca(ca_key.get());
    write_file_atomic(ca_key_path, key_pem(ca_key.get()), 0600);
    write_file_atomic(ca_path, cert_pem(ca.get()), 0644);
    wrote = true;
    spdlog::info("generated development CA {}", paths.ca_cert);
  }

  // The server certificate: reuse when usable under the current CA.
  problem.clear();
  const auto leaf_text = read_small_file(leaf_path);
  const auto leaf_key_text = read_small_file(leaf_key_path);
  if (wrote) {
    problem = "the CA is new";
  } else if (!leaf_text || !leaf_key_text) {
    problem = "none existed";
  } else {
    const auto chain = parse_certs(*leaf_text);
    const PkeyPtr key = parse_key(*leaf_key_text);
    problem = !key ? "server-key.pem is not a valid PEM key" : leaf_problem(chain, key.get(), ca.get(), names);
  }
  if (!problem.empty()) {
    const PkeyPtr key = new_p256_key();
    const X509Ptr leaf = make_leaf(key.get(), ca.get(), ca_key.get(), names);
    write_file_atomic(leaf_key_path, key_pem(key.get()), 0600);
    write_file_atomic(leaf_path, cert_pem(leaf.get()) + cert_pem(ca.get()), 0644);
    wrote = true;
    spdlog::info("generated development server certificate {} for {} ({})", paths.server_cert, describe(names),
                 problem);
  }
  if (wrote) fsync_directory(root);
  return paths;
}

}  // namespace kvsd::app
