#pragma once
// Test-only reader for the stock-SDK request captures in tests/data/sdk-captures/ (copied from the
// shared test data; see tests/data/sdk-captures/README.md).
//
// HTTP/1.1 files: '#' comment lines, the request line, header lines "Name: value", a blank line,
// the body, then "\n# ---- body: N bytes ----" and the stub's response. PutMedia captures have no
// body marker (the body is the streamed MKV, not signed): they come back with streamed = true.
//
// http2/requests-h2.txt: nghttpd's verbose log, one "[id=N]" per connection; headers come from the
// "recv (stream_id=1[, sensitive]) name: value" lines, body lengths from "recv DATA frame <length=N".
// The log does not show body bytes; load_h2_captures() takes them from the HTTP/1.1 capture named
// in its argument map when the lengths agree, and leaves body empty otherwise.

#include <cstddef>
#include <fstream>
#include <map>
#include <optional>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace kvsd::auth::testing {

struct Capture {
  std::string name;  // e.g. "realtime-h264/01-describeStream" or "http2/id=1"
  std::string method, path, query;
  std::vector<std::pair<std::string, std::string>> headers;  // as received (value after ':', untrimmed)
  bool http2 = false;
  bool streamed = false;            // PutMedia: body not covered by the signature
  std::optional<std::string> body;  // known body bytes (JSON calls); nullopt if streamed or unknown
  std::size_t body_length = 0;      // as announced by the capture

  [[nodiscard]] std::optional<std::string> header(std::string_view lower_name) const {
    for (const auto& [n, v] : headers) {
      std::string ln;
      for (char c : n) ln.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
      if (ln == lower_name) return v;
    }
    return std::nullopt;
  }
};

// gtest prints parameters on failure; the name is enough.
inline void PrintTo(const Capture& c, std::ostream* os) { *os << c.name; }

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void split_target(Capture& c, std::string_view target) {
  std::size_t q = target.find('?');
  c.path = std::string(target.substr(0, q));
  c.query = q == std::string_view::npos ? std::string() : std::string(target.substr(q + 1));
}

inline Capture parse_h1_capture(std::string name, const std::string& text) {
  Capture c;
  c.name = std::move(name);
  std::size_t pos = 0;
  auto next_line = [&]() -> std::string_view {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) throw std::runtime_error(c.name + ": truncated capture");
    std::string_view line(text.data() + pos, eol - pos);
    pos = eol + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
  };
  std::string_view line = next_line();
  while (!line.empty() && line.front() == '#') line = next_line();
  std::size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 == sp1) throw std::runtime_error(c.name + ": bad request line");
  c.method = std::string(line.substr(0, sp1));
  split_target(c, line.substr(sp1 + 1, sp2 - sp1 - 1));
  for (line = next_line(); !line.empty(); line = next_line()) {
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) throw std::runtime_error(c.name + ": bad header line");
    c.headers.emplace_back(std::string(line.substr(0, colon)), std::string(line.substr(colon + 1)));
  }
  static constexpr std::string_view kMarker = "\n# ---- body: ";
  std::size_t marker = text.find(kMarker, pos);
  if (marker == std::string::npos) {
    c.streamed = true;
    return c;
  }
  c.body_length = std::stoul(text.substr(marker + kMarker.size()));
  if (marker != pos + c.body_length) throw std::runtime_error(c.name + ": body length disagrees with marker");
  c.body = text.substr(pos, c.body_length);
  return c;
}

inline Capture load_h1_capture(const std::string& dir, const std::string& name) {
  return parse_h1_capture(name, read_file(dir + "/" + name + ".txt"));
}

// bodies: :path -> an HTTP/1.1 capture whose body the h2 request is believed to have sent.
inline std::vector<Capture> parse_h2_log(const std::string& text, const std::map<std::string, Capture>& bodies) {
  std::map<std::string, Capture> by_conn;
  std::vector<std::string> order;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("[id=", 0) != 0) continue;
    std::string conn = line.substr(0, line.find(']') + 1);
    if (!by_conn.count(conn)) {
      order.push_back(conn);
      by_conn[conn].name = "http2/" + conn.substr(1, conn.size() - 2);
      by_conn[conn].http2 = true;
    }
    Capture& c = by_conn[conn];
    static constexpr std::string_view kData = "recv DATA frame <length=";
    if (std::size_t d = line.find(kData); d != std::string::npos) {
      c.body_length += std::stoul(line.substr(d + kData.size()));
      continue;
    }
    std::size_t recv = line.find("recv (stream_id=");
    if (recv == std::string::npos) continue;
    std::size_t close = line.find(") ", recv);
    std::string field = line.substr(close + 2);
    std::size_t colon = field.find(": ", 1);  // pseudo headers start with ':'
    std::string name = field.substr(0, colon), value = field.substr(colon + 2);
    if (name == ":method") {
      c.method = value;
    } else if (name == ":path") {
      split_target(c, value);
    } else if (name == ":authority") {
      c.headers.emplace_back("host", value);  // what the HTTP/2 layer hands the verifier
    } else if (name.front() != ':') {
      c.headers.emplace_back(name, value);
    }
  }
  std::vector<Capture> out;
  for (const auto& conn : order) {
    Capture c = by_conn[conn];
    c.streamed = c.path == "/putMedia";
    if (auto it = bodies.find(c.path);
        !c.streamed && it != bodies.end() && it->second.body && it->second.body->size() == c.body_length) {
      c.body = it->second.body;
    }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace kvsd::auth::testing
