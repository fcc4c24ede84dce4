// libFuzzer target for the HTTP/1.1 request head as kvsd takes it in: Beast's
// request_parser<buffer_body> with the session's header limit and no body limit, read the way
// Beast's async_read_header does (bytes appended to a buffer, put() until the head is done, EOF
// ends the read), then the session's own steps: the header-count limit (431), the protocol-neutral
// Request (split_target, Headers, authority from Host) and the keep-alive / Expect decisions.
// The steps mirror run_http1_session in src/http/http1_session.cpp (which owns a socket, so it
// cannot run here); keep the two in step.
//
// Input: 4 control bytes, then the bytes the client sends.
//   c0: bit 0 set -> header limit 64 + 16 * (c0 >> 1) bytes, else the default 16 KiB;
//   c1: bit 0 set -> header count limit c1 >> 1, else the default 100;
//   c2 c3: split point (big-endian, modulo the wire size + 1); c3 also picks a piece size 1..64.
// Oracle: the outcome (request accepted with every field, 431, 400, or closed silently) and the
// head's length do not depend on how the bytes arrive (whole, split at one point, in small
// pieces), except where Beast applies the header limit differently by arrival (see same();
// KVSD_FUZZ_TRACE=1 prints the three outcomes);
// an accepted request obeys the limits; split_target splits at the first '?' and loses
// nothing; Headers keeps every field in order and its lookups are case-insensitive and
// first-wins; set() and erase() keep exactly one / no field of the name.

#include <algorithm>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fuzz_support.hpp"
#include "http/headers.hpp"
#include "http/limits.hpp"
#include "http/request.hpp"

namespace {

namespace bhttp = boost::beast::http;
using kvsd::fuzz::check;
using kvsd::http::Headers;
using kvsd::http::iequals;

enum class Result { request, bad_request, too_large, closed };

struct Outcome {
  Result result = Result::closed;
  std::size_t head_bytes = 0;  // bytes the head took off the wire (request only)
  std::string method, target, path, query, authority;
  std::vector<std::pair<std::string, std::string>> headers;
  unsigned version = 0;
  bool keep_alive = false;
  bool chunked = false;
  bool expect_continue = false;
  bool has_content_length = false;
  std::uint64_t content_length = 0;

  bool operator==(const Outcome&) const = default;
};

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
  }
  return out;
}

// Headers' contract, checked against the fields it was built from.
void check_headers(const Headers& h, const std::vector<std::pair<std::string, std::string>>& fields) {
  check(h.size() == fields.size() && h.empty() == fields.empty(), "Headers keeps every field");
  check(std::equal(h.begin(), h.end(), fields.begin(), fields.end()), "Headers keeps fields and their order");
  for (const auto& field : fields) {
    const std::string& name = field.first;
    const auto first =
        std::find_if(fields.begin(), fields.end(), [&](const auto& f) { return iequals(f.first, name); });
    const auto got = h.get(name);
    check(got.has_value() && *got == first->second, "get() returns the first field of the name");
    check(h.get(kvsd::http::to_lower(name)) == got && h.get(upper(name)) == got, "get() ignores case");
    check(h.contains(name), "contains() agrees with get()");
    check(iequals(kvsd::http::to_lower(name), name) && iequals(name, upper(name)), "iequals() ignores ASCII case");
  }
  if (fields.empty()) return;
  const std::string name = fields.front().first;
  const auto same = static_cast<std::size_t>(
      std::count_if(fields.begin(), fields.end(), [&](const auto& f) { return iequals(f.first, name); }));
  Headers set_copy = h;
  set_copy.set(upper(name), "v");
  check(set_copy.size() == fields.size() - same + 1 && set_copy.get(name) == std::string_view("v"),
        "set() leaves exactly one field of the name");
  Headers erase_copy = h;
  erase_copy.erase(kvsd::http::to_lower(name));
  check(erase_copy.size() == fields.size() - same && !erase_copy.contains(name), "erase() removes every field");
}

void check_split_target(const std::string& target, const std::string& path, const std::string& query) {
  check(path.find('?') == std::string::npos, "the path has no '?'");
  if (target.find('?') == std::string::npos) {
    check(path == target && query.empty(), "a target without '?' is all path");
  } else {
    check(path + '?' + query == target, "path '?' query is the target");
  }
}

// The bytes arrive in pieces ending at `cuts` (increasing; the last is wire.size()).
Outcome read_head(std::string_view wire, const std::vector<std::size_t>& cuts, const kvsd::http::Limits& limits) {
  bhttp::request_parser<bhttp::buffer_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(limits.header_bytes));
  parser.body_limit(boost::none);
  Outcome out;
  std::string buffer;    // bytes received and not yet consumed by the parser
  std::size_t used = 0;  // bytes consumed by the parser
  std::size_t arrived = 0;
  boost::system::error_code ec;
  bool done = false;
  for (const std::size_t cut : cuts) {
    buffer.append(wire.substr(arrived, cut - arrived));
    arrived = cut;
    while (!buffer.empty()) {
      const auto n = parser.put(boost::asio::buffer(buffer), ec);
      check(n <= buffer.size(), "put() consumes at most what it was given");
      buffer.erase(0, n);
      used += n;
      if (ec == bhttp::error::need_more) {
        ec = {};
        break;
      }
      if (ec || parser.is_header_done()) {
        done = true;
        break;
      }
      check(n > 0, "put() makes progress or asks for more");
    }
    if (done) break;
  }
  if (!done) {
    // The peer closed: async_read_header reports end_of_stream before any byte, else put_eof's error.
    if (!parser.got_some()) return out;  // Result::closed
    parser.put_eof(ec);
    check(ec.failed(), "an unfinished head fails at EOF");
  }
  if (ec == bhttp::error::header_limit) {
    out.result = Result::too_large;
    return out;
  }
  if (ec) {
    out.result = Result::bad_request;
    return out;
  }
  // Beast gives header_limit to each parse window (the request line, the field lines of the first
  // put() that parses fields, the rest), so a head up to three times the limit can pass it,
  // depending on how it arrived (found by this target). The session bounds the whole head itself.
  if (used > limits.header_bytes) {
    out.result = Result::too_large;
    return out;
  }
  const auto& msg = parser.get();
  const auto field_count = static_cast<std::size_t>(std::distance(msg.begin(), msg.end()));
  if (field_count > limits.header_count) {
    out.result = Result::too_large;
    return out;
  }

  kvsd::http::Request req;
  req.method = std::string(msg.method_string());
  req.target = std::string(msg.target());
  kvsd::http::split_target(req.target, req.path, req.query);
  for (const auto& f : msg) req.headers.add(std::string(f.name_string()), std::string(f.value()));
  if (auto host = req.headers.get("host")) req.authority = std::string(*host);

  out.result = Result::request;
  out.head_bytes = used;
  out.method = req.method;
  out.target = req.target;
  out.path = req.path;
  out.query = req.query;
  out.authority = req.authority;
  for (const auto& f : msg) out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  out.version = msg.version();
  out.keep_alive = msg.keep_alive() && msg.version() == 11;
  out.chunked = parser.chunked();
  const auto expect = msg.find(bhttp::field::expect);
  out.expect_continue = expect != msg.end() && iequals(expect->value(), "100-continue") && !parser.is_done();
  if (const auto length = parser.content_length()) {
    out.has_content_length = true;
    out.content_length = *length;
  }

  check(!out.method.empty() && !out.target.empty(), "an accepted request has a method and a target");
  check(out.version == 10 || out.version == 11, "HTTP/1.0 or HTTP/1.1");
  check(!(out.chunked && out.has_content_length), "never both chunked and a Content-Length");
  check_split_target(req.target, req.path, req.query);
  check_headers(req.headers, out.headers);
  const auto host =
      std::find_if(out.headers.begin(), out.headers.end(), [](const auto& f) { return iequals(f.first, "host"); });
  check(host == out.headers.end() ? out.authority.empty() : out.authority == host->second,
        "authority is the first Host header");
  return out;
}

// Outcomes of two arrivals of the same bytes agree, with one known exception, Beast's way of
// applying header_limit (found by this target; see tests/fuzz/README.md):
// - after a head was incomplete, Beast looks only for its end (CRLF CRLF) in the next bytes and
//   answers header_limit when that lies past the limit, without parsing them; given the same
//   bytes at once it parses them and can stop at a syntax error first. So a head both malformed
//   and longer than the limit gets 400 or 431 depending on how it arrived.
// A head (and any bytes after it) within the limit is never affected.
bool same(const Outcome& a, const Outcome& b, std::size_t wire_bytes, const kvsd::http::Limits& limits) {
  if (a == b) return true;
  const auto refused = [](const Outcome& o) {
    return o.result == Result::bad_request || o.result == Result::too_large;
  };
  return wire_bytes >= limits.header_bytes && refused(a) && refused(b);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  kvsd::fuzz::InputReader in({data, size});
  const std::uint8_t c0 = in.byte();
  const std::uint8_t c1 = in.byte();
  const std::uint16_t split = in.u16();
  const std::string_view wire = in.rest();

  kvsd::http::Limits limits;
  if (c0 & 1) limits.header_bytes = 64 + 16 * static_cast<std::size_t>(c0 >> 1);
  if (c1 & 1) limits.header_count = c1 >> 1;

  const std::size_t at = split % (wire.size() + 1);
  const std::size_t piece = 1 + (split & 63);
  std::vector<std::size_t> cuts;
  for (std::size_t c = piece; c < wire.size(); c += piece) cuts.push_back(c);
  cuts.push_back(wire.size());
  const Outcome whole = read_head(wire, {wire.size()}, limits);
  const Outcome split_once = read_head(wire, {at, wire.size()}, limits);
  const Outcome pieces = read_head(wire, cuts, limits);
  static const bool trace = std::getenv("KVSD_FUZZ_TRACE") != nullptr;
  if (trace) {
    static constexpr const char* kNames[] = {"request", "400", "431", "closed"};
    std::fprintf(
        stderr,
        "limit %zu, %zu bytes: whole %s (head %zu), split at %zu %s (head %zu), %zu-byte pieces %s (head %zu)\n",
        limits.header_bytes, wire.size(), kNames[static_cast<int>(whole.result)], whole.head_bytes, at,
        kNames[static_cast<int>(split_once.result)], split_once.head_bytes, piece,
        kNames[static_cast<int>(pieces.result)], pieces.head_bytes);
  }
  check(same(split_once, whole, wire.size(), limits), "a split at one point gives the same outcome");
  check(same(pieces, whole, wire.size(), limits), "small pieces give the same outcome");
  return 0;
}
