#pragma once
// A development certificate authority and a server certificate signed by it, so that kvsd can
// serve TLS out of the box and producers (AWS_KVS_CACERT_PATH), curl (--cacert) and SDKs can
// trust it by pointing at one CA file.

#include <string>
#include <vector>

namespace kvsd::app {

// Absolute or relative exactly as `dir` was given.
struct DevCertPaths {
  std::string ca_cert;      // <dir>/ca.pem: the CA certificate clients trust
  std::string server_cert;  // <dir>/server.pem: server certificate followed by the CA (the chain)
  std::string server_key;   // <dir>/server-key.pem: the server's private key (PKCS#8 PEM, 0600)
};

// Ensures a development CA and a server certificate signed by it exist under `dir` (created with
// mode 0700 when missing; an existing directory keeps its mode): ca.pem, ca-key.pem (0600),
// server.pem (leaf then CA), server-key.pem (0600). Keys are EC P-256, signatures ECDSA-SHA256,
// serials random; files are replaced atomically (write to a temporary, fsync, rename).
//
// The server certificate's subjectAltName covers DNS:localhost, IP:127.0.0.1, IP:::1 and each
// entry of `extra_names`: an entry that parses as an IPv4/IPv6 address (brackets allowed around
// IPv6) becomes an IP SAN, anything else a DNS SAN (lowercased; letters, digits, '-', '_', '.',
// and a leading "*." wildcard label). Empty entries are ignored.
//
// Reuse: the CA is kept while ca.pem/ca-key.pem parse, match, form a self-signed CA and are valid
// for more than 30 more days; otherwise a new CA (valid 10 years) is made, and clients must trust
// the new ca.pem. The server certificate is kept while it verifies against the current CA (strict
// X.509 checks, purpose serverAuth), its key matches, server.pem carries the current CA as the
// second certificate, its SAN covers every required name and it is valid for more than 30 more
// days; otherwise a new one is made (valid 825 days, never past the CA's notAfter).
//
// The CA file name keeps its ".pem" suffix on purpose: the KVS producer SDK treats
// AWS_KVS_CACERT_PATH as a CA file only when the path contains ".pem" (else as a CA directory).
//
// Throws std::invalid_argument for an entry of `extra_names` that is neither an address nor a DNS
// name (before touching the disk); std::runtime_error (or std::filesystem::filesystem_error) when
// the directory or a file cannot be created, read or written (an existing but unreadable file is
// an error, never silently replaced) or OpenSSL fails. Not safe to run concurrently on the same `dir`
// from two processes.
DevCertPaths ensure_dev_certificates(const std::string& dir, const std::vector<std::string>& extra_names);

}  // namespace kvsd::app
