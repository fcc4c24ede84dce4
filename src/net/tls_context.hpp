#pragma once
// The server's TLS configuration (OpenSSL behind boost::asio::ssl::context) and the ALPN result
// of a finished handshake.

#include <openssl/ssl.h>

#include <boost/asio/ssl/context.hpp>
#include <string>

namespace kvsd::net {

// Builds the server TLS context: TLS 1.2 and 1.3 only, forward-secret AEAD cipher suites first
// (ECDHE-CBC kept last for old embedded producers), no renegotiation, no compression, a server
// session cache. Loads the certificate chain (leaf first, then intermediates) and the unencrypted
// private key from PEM files. ALPN prefers "h2" and falls back to "http/1.1"; with alpn_h2=false
// only "http/1.1" is offered. A client offering neither gets no ALPN (the connection then speaks
// HTTP/1.1).
// Throws std::runtime_error naming the file and the cause when a file is missing or unreadable,
// is not PEM, the key is encrypted, or the key does not match the leaf certificate.
// The context holds no reference to the paths; it is safe to share across threads once built.
boost::asio::ssl::context make_server_tls_context(const std::string& cert_chain_pem_path,
                                                  const std::string& key_pem_path, bool alpn_h2 = true);

// The ALPN protocol the handshake selected ("h2", "http/1.1") or "" when none was (or `ssl` is
// null, or the handshake has not finished).
std::string selected_alpn(const SSL* ssl);

}  // namespace kvsd::net
