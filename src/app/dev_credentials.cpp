#include "app/dev_credentials.hpp"

#include <fcntl.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string_view>

namespace kvsd::app {

namespace fs = std::filesystem;

namespace {

// `n` characters drawn uniformly from `alphabet` (rejection sampling, no modulo bias).
std::string random_string(std::string_view alphabet, std::size_t n) {
  std::string out;
  const unsigned limit = 256 - (256 % static_cast<unsigned>(alphabet.size()));
  std::array<unsigned char, 64> buf{};
  while (out.size() < n) {
    if (RAND_bytes(buf.data(), static_cast<int>(buf.size())) != 1) throw std::runtime_error("RAND_bytes failed");
    for (unsigned char b : buf) {
      if (b >= limit) continue;
      out += alphabet[b % alphabet.size()];
      if (out.size() == n) break;
    }
  }
  return out;
}

// The quoted value of `name = "value"` on one line, or empty.
std::string value_of(const std::string& line, std::string_view name) {
  if (line.rfind(name, 0) != 0) return {};
  auto rest = std::string_view(line).substr(name.size());
  while (!rest.empty() && (rest.front() == ' ' || rest.front() == '=')) rest.remove_prefix(1);
  while (!rest.empty() && (rest.back() == ' ' || rest.back() == '\r')) rest.remove_suffix(1);
  if (rest.size() < 2 || rest.front() != '"' || rest.back() != '"') return {};
  return std::string(rest.substr(1, rest.size() - 2));
}

}  // namespace

auth::Credentials make_random_credentials() {
  auth::Credentials c;
  c.access_key_id = "AKIA" + random_string("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 16);
  c.secret_access_key = random_string("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 40);
  return c;
}

auth::Credentials ensure_dev_credentials(const std::string& path) {
  const fs::path p(path);
  if (!fs::exists(p)) {
    if (p.has_parent_path()) fs::create_directories(p.parent_path());
    const auto c = make_random_credentials();
    const std::string text =
        "access_key_id = \"" + c.access_key_id + "\"\nsecret_access_key = \"" + c.secret_access_key + "\"\n";
    const std::string tmp = path + ".tmp";
    ::unlink(tmp.c_str());
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) throw std::runtime_error(tmp + ": " + std::strerror(errno));
    const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    const bool closed = ::close(fd) == 0;
    if (!ok || !closed || ::rename(tmp.c_str(), path.c_str()) != 0) {
      ::unlink(tmp.c_str());
      throw std::runtime_error(path + ": cannot write the dev credentials");
    }
    return c;
  }
  std::ifstream in(p);
  if (!in) throw std::runtime_error(path + ": cannot read the dev credentials");
  auth::Credentials c;
  std::string line;
  while (std::getline(in, line)) {
    if (auto v = value_of(line, "access_key_id"); !v.empty()) c.access_key_id = v;
    if (auto v = value_of(line, "secret_access_key"); !v.empty()) c.secret_access_key = v;
  }
  if (c.access_key_id.empty() || c.secret_access_key.empty())
    throw std::runtime_error(path +
                             ": expected access_key_id and secret_access_key lines (delete it to make a new pair)");
  return c;
}

}  // namespace kvsd::app
