#pragma once
// The development access key pair: when auth is sigv4 and no credentials are configured, kvsd
// makes one random pair under <data_dir>/credentials (mode 0600) and reuses it on every restart.
// File format, two TOML lines:
//   access_key_id = "AKIA..."
//   secret_access_key = "..."

#include <string>

#include "auth/credentials.hpp"

namespace kvsd::app {

// A fresh random pair: "AKIA" + 16 uppercase letters/digits, and a 40-character secret.
auth::Credentials make_random_credentials();

// Reads the pair from `path`, or creates the file (mode 0600, parent directories as needed) with
// a random pair if it does not exist. Throws std::runtime_error when the file is unreadable or
// malformed.
auth::Credentials ensure_dev_credentials(const std::string& path);

}  // namespace kvsd::app
