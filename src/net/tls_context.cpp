#include "net/tls_context.hpp"

#include <fcntl.h>
#include <openssl/err.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string_view>

namespace kvsd::net {

namespace {

// ALPN protocol lists in wire format (length-prefixed), in server preference order.
constexpr unsigned char kAlpnH2AndHttp11[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
constexpr unsigned char kAlpnHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

// TLS 1.2 suites: Mozilla "intermediate" (ECDHE + AEAD), then ECDHE-CBC for old embedded
// producers that reach real KVS with them. The server's order wins, so h2-capable clients get an
// AEAD suite (RFC 9113 9.2.2). TLS 1.3 suites stay at OpenSSL's defaults.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256:"
    "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES256-SHA";

constexpr unsigned char kSessionIdContext[] = {'k', 'v', 's', 'd'};

// Picks the first protocol of `server` (wire format) that the client also offered. Returns
// SSL_TLSEXT_ERR_NOACK when there is no overlap or the client's list is malformed, so the
// handshake continues without ALPN. `out` points into the client's list, as OpenSSL requires.
int select_from(const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned int inlen,
                const unsigned char* server, std::size_t server_len) {
  for (std::size_t s = 0; s < server_len; s += 1u + server[s]) {
    const std::string_view want(reinterpret_cast<const char*>(server + s + 1), server[s]);
    for (unsigned int c = 0; c < inlen;) {
      const unsigned int len = in[c];
      if (len == 0 || c + 1 + len > inlen) return SSL_TLSEXT_ERR_NOACK;
      if (std::string_view(reinterpret_cast<const char*>(in + c + 1), len) == want) {
        *out = in + c + 1;
        *outlen = static_cast<unsigned char>(len);
        return SSL_TLSEXT_ERR_OK;
      }
      c += 1 + len;
    }
  }
  return SSL_TLSEXT_ERR_NOACK;
}

// C callbacks: called by OpenSSL on the connection's strand during the handshake; no state.
template <bool kOfferH2>
int alpn_select_cb(SSL* /*ssl*/, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                   unsigned int inlen, void* /*arg*/) {
  if constexpr (kOfferH2) {
    return select_from(out, outlen, in, inlen, kAlpnH2AndHttp11, sizeof kAlpnH2AndHttp11);
  } else {
    return select_from(out, outlen, in, inlen, kAlpnHttp11, sizeof kAlpnHttp11);
  }
}

// Refuses encrypted keys instead of prompting on the terminal.
int no_password_cb(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*userdata*/) { return -1; }

// Drains this thread's OpenSSL error queue into one readable line.
std::string openssl_errors() {
  std::string text;
  while (const unsigned long e = ERR_get_error()) {
    const char* reason = ERR_reason_error_string(e);
    char buf[256];
    if (reason == nullptr) {
      ERR_error_string_n(e, buf, sizeof buf);
      reason = buf;
    }
    if (!text.empty()) text += "; ";
    text += reason;
  }
  return text.empty() ? "unknown OpenSSL error" : text;
}

[[noreturn]] void fail(const std::string& what) {
  const std::string detail = openssl_errors();
  throw std::runtime_error(what + ": " + detail);
}

// Throws with the OS reason when `path` cannot be opened for reading (clearer than OpenSSL's).
void check_readable(const std::string& path, const char* what) {
  if (path.empty()) throw std::runtime_error(std::string("TLS ") + what + " path is empty");
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    throw std::runtime_error(std::string("cannot read TLS ") + what + " '" + path + "': " + std::strerror(err));
  }
  ::close(fd);
}

}  // namespace

boost::asio::ssl::context make_server_tls_context(const std::string& cert_chain_pem_path,
                                                  const std::string& key_pem_path, bool alpn_h2) {
  check_readable(cert_chain_pem_path, "certificate chain");
  check_readable(key_pem_path, "private key");

  ERR_clear_error();
  boost::asio::ssl::context ctx(boost::asio::ssl::context::tls_server);
  SSL_CTX* const native = ctx.native_handle();

  if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1) fail("cannot set the minimum TLS version");
  SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                                  SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1);
  if (SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1) fail("cannot set the TLS 1.2 cipher list");
  SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_SERVER);
  if (SSL_CTX_set_session_id_context(native, kSessionIdContext, sizeof kSessionIdContext) != 1) {
    fail("cannot set the TLS session id context");
  }
  // Only the callback, not its userdata: asio's context owns the userdata slot.
  SSL_CTX_set_default_passwd_cb(native, no_password_cb);

  if (SSL_CTX_use_certificate_chain_file(native, cert_chain_pem_path.c_str()) != 1) {
    fail("cannot load TLS certificate chain '" + cert_chain_pem_path + "' (expected PEM, leaf first)");
  }
  if (SSL_CTX_use_PrivateKey_file(native, key_pem_path.c_str(), SSL_FILETYPE_PEM) != 1) {
    const std::string detail = openssl_errors();
    if (detail.find("mismatch") != std::string::npos) {
      throw std::runtime_error("TLS private key '" + key_pem_path + "' does not match the certificate in '" +
                               cert_chain_pem_path + "': " + detail);
    }
    throw std::runtime_error("cannot load TLS private key '" + key_pem_path +
                             "' (expected an unencrypted PEM key): " + detail);
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    fail("TLS private key '" + key_pem_path + "' does not match the certificate in '" + cert_chain_pem_path + "'");
  }

  if (alpn_h2) {
    SSL_CTX_set_alpn_select_cb(native, alpn_select_cb<true>, nullptr);
  } else {
    SSL_CTX_set_alpn_select_cb(native, alpn_select_cb<false>, nullptr);
  }
  return ctx;
}

std::string selected_alpn(const SSL* ssl) {
  if (ssl == nullptr) return {};
  const unsigned char* data = nullptr;
  unsigned int len = 0;
  SSL_get0_alpn_selected(ssl, &data, &len);
  if (data == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(data), len);
}

}  // namespace kvsd::net
