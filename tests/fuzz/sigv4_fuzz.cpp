// libFuzzer target for SigV4: the canonicalisation rules (src/auth/canonical.*), verify()
// (src/auth/sigv4.*) and the signer (src/auth/signer.*), all with one fixed key pair and clock.
//
// Input: '\n'-separated lines: a control line, the method, the path, the query, the payload hash,
// then header lines "name:value" (a line without ':' is a name with an empty value).
// Control bytes: c0 bit 0 = HTTP/2 request; c1 picks the part a tamper changes (method, path,
// query, a header value, a header name, the payload hash, the signature, the X-Amz-Date), c2..c3
// the byte, c4 the xor applied to it; c5 the header a tamper picks; c6 seconds between signing
// and verifying.
//
// Oracle:
// 1. As received: verify() does not crash, is deterministic, and an accepted request names the
//    known key and a signed payload hash.
// 2. Canonical forms: percent_decode(uri_encode(s)) == s; uri_encode's output is unreserved bytes
//    and %XX only; the canonical query string is a fixed point (parsing and canonicalising it
//    again gives it back) and does not depend on parameter order; trim() and
//    collapse_whitespace() are idempotent; parse_amz_date accepts exactly what format_amz_date
//    writes back unchanged.
// 3. Signed: the same request signed by sign() (headers it cannot carry dropped, host and
//    x-amz-date added) verifies, unless its query holds X-Amz-* authentication parameters or
//    more than VerifyOptions::max_query_params parameters (then it is malformed); sign() is
//    deterministic.
// 4. Tampered: after a one-byte change to a signed part, verify() succeeds exactly when the
//    change leaves the canonical request it builds the same, in the trimmed or the
//    whitespace-collapsed form (e.g. %2f -> %2F in the query, the case of a header name, an
//    HTTP/2 request losing a signed "connection: keep-alive", which verify() restores); a changed
//    signature or date never verifies.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "auth/canonical.hpp"
#include "auth/credentials.hpp"
#include "auth/signer.hpp"
#include "auth/sigv4.hpp"
#include "fuzz_support.hpp"

namespace {

using namespace std::chrono_literals;
using kvsd::fuzz::check;
namespace auth = kvsd::auth;

constexpr std::string_view kKeyId = "AKIDFUZZEXAMPLE";
constexpr std::string_view kSecret = "fuzzSecretKey/EXAMPLE+0123456789abcdefghij";
// 2024-05-01T12:00:00Z: the seed corpus's presigned and header-signed requests are dated so.
const std::chrono::system_clock::time_point kSignedAt =
    std::chrono::sys_days{std::chrono::year{2024} / 5 / 1} + std::chrono::hours{12};

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct Parts {
  std::string method, path, query, payload;
  HeaderList headers;
};

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }
std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

bool is_unreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.' || c == '~';
}

// SignedHeaders' name rule (sigv4.cpp): lower-case token characters.
bool signable_name(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           std::string_view("-_.:!#$%&'*+^`|~").find(c) != std::string_view::npos;
  });
}

const auth::StaticCredentialStore& store() {
  static const auth::StaticCredentialStore s({{std::string(kKeyId), std::string(kSecret)}});
  return s;
}

auth::SignedRequest as_received(const Parts& p, bool http2) {
  return {p.method, p.path, p.query, p.headers, http2, p.payload};
}

auth::AuthResult run_verify(const Parts& p, bool http2, std::chrono::system_clock::time_point now) {
  return auth::verify(as_received(p, http2), store(), now, auth::VerifyOptions{});
}

bool same(const auth::AuthResult& a, const auth::AuthResult& b) {
  return a.ok == b.ok && a.failure == b.failure && a.message == b.message && a.access_key_id == b.access_key_id &&
         a.region == b.region && a.security_token == b.security_token && a.presigned == b.presigned &&
         a.signed_payload_sha256 == b.signed_payload_sha256 && a.canonical_request == b.canonical_request &&
         a.string_to_sign == b.string_to_sign;
}

void check_canonical_rules(const Parts& p) {
  for (const std::string* s : {&p.method, &p.path, &p.query, &p.payload}) {
    for (const bool slash : {true, false}) {
      const std::string enc = auth::uri_encode(*s, slash);
      check(auth::percent_decode(enc) == *s, "percent_decode inverts uri_encode");
      for (std::size_t i = 0; i < enc.size(); ++i) {
        if (enc[i] == '%') {
          check(i + 2 < enc.size() && std::string_view("0123456789ABCDEF").find(enc[i + 1]) != std::string_view::npos &&
                    std::string_view("0123456789ABCDEF").find(enc[i + 2]) != std::string_view::npos,
                "uri_encode writes %XX with upper-case hex");
          i += 2;
        } else {
          check(is_unreserved(enc[i]) || (!slash && enc[i] == '/'), "uri_encode leaves only unreserved bytes");
        }
      }
    }
    const auto t = auth::trim(*s);
    check(auth::trim(t) == t, "trim is idempotent");
    const std::string c = auth::collapse_whitespace(*s);
    check(auth::collapse_whitespace(c) == c, "collapse_whitespace is idempotent");
    check(c.find("  ") == std::string::npos && (c.empty() || (c.front() != ' ' && c.back() != ' ')),
          "collapse_whitespace leaves single inner spaces only");
    if (const auto at = auth::parse_amz_date(*s)) {
      check(auth::format_amz_date(*at) == *s, "parse_amz_date accepts only what format_amz_date writes");
    }
  }
  const auto parsed = auth::parse_query(p.query, static_cast<std::size_t>(-1));
  check(!parsed.too_many, "no limit, no overflow");
  const std::string canonical = auth::canonical_query_string(parsed.params);
  const auto again = auth::parse_query(canonical, static_cast<std::size_t>(-1));
  check(auth::canonical_query_string(again.params) == canonical, "the canonical query is a fixed point");
  auto reversed = parsed.params;
  std::reverse(reversed.begin(), reversed.end());
  check(auth::canonical_query_string(reversed) == canonical, "parameter order does not matter");
  const auto limited = auth::parse_query(p.query, 3);
  check(limited.params.size() <= 3 && limited.too_many == (parsed.params.size() > 3), "max_params is a bound");
  const auto at = kSignedAt + std::chrono::seconds{p.payload.size()};
  check(auth::parse_amz_date(auth::format_amz_date(at)) == std::chrono::floor<std::chrono::seconds>(at),
        "format_amz_date round-trips");
}

// The request sign() is given: headers a signed request cannot carry as signed ones dropped
// (invalid names, the authentication headers, more than 60 names), host and x-amz-date added.
Parts signable(const Parts& p, std::string_view amz_date) {
  Parts s = p;
  s.headers.clear();
  std::vector<std::string> names;
  bool has_host = false;
  for (const auto& [name, value] : p.headers) {
    const std::string n = lower(name);
    if (!signable_name(n) || n == "authorization" || n == "x-amz-date" || n == "x-amz-content-sha256") continue;
    if (std::find(names.begin(), names.end(), n) == names.end()) {
      if (names.size() == 60) continue;
      names.push_back(n);
    }
    has_host = has_host || n == "host";
    s.headers.emplace_back(name, value);
  }
  if (!has_host) s.headers.emplace_back("Host", "kinesisvideo.us-west-2.amazonaws.com");
  s.headers.emplace_back("X-Amz-Date", std::string(amz_date));
  return s;
}

auth::SignedParts sign(const Parts& s) {
  auth::SigningRequest req{s.method, s.path, s.query, s.headers, s.payload};
  return auth::sign(req, {std::string(kKeyId), std::string(kSecret)}, {}, kSignedAt);
}

std::size_t count(const HeaderList& headers, std::string_view name) {
  return static_cast<std::size_t>(
      std::count_if(headers.begin(), headers.end(), [&](const auto& h) { return lower(h.first) == name; }));
}

// The canonical request verify() builds from `t` for the header names `signed_names` (as
// sign() listed them), made by sign() from just those headers: each name's values in order
// (whitespace-collapsed for verify()'s second form), "host" falling back to ":authority", and
// for HTTP/2 an absent "connection" / "transfer-encoding" taken as "keep-alive" / "chunked"
// (sigv4.hpp). nullopt when a signed header is missing altogether.
std::optional<std::string> canonical_as_verified(const Parts& t, std::string_view signed_names, bool http2,
                                                 bool collapsed) {
  Parts v = t;
  v.headers.clear();
  std::size_t start = 0;
  for (;;) {
    const auto semi = signed_names.find(';', start);
    const std::string name(signed_names.substr(start, semi == std::string_view::npos ? semi : semi - start));
    std::vector<std::string> values;
    for (const auto& [n, val] : t.headers) {
      if (lower(n) == name) values.push_back(val);
    }
    if (values.empty() && name == "host") {
      for (const auto& [n, val] : t.headers) {
        if (lower(n) == ":authority") values.push_back(val);
      }
    }
    if (values.empty() && http2 && name == "connection") values.emplace_back("keep-alive");
    if (values.empty() && http2 && name == "transfer-encoding") values.emplace_back("chunked");
    if (values.empty()) return std::nullopt;
    for (const auto& val : values) v.headers.emplace_back(name, collapsed ? auth::collapse_whitespace(val) : val);
    if (semi == std::string_view::npos) break;
    start = semi + 1;
  }
  return sign(v).canonical_request;
}

bool query_has_auth(const std::string& query) {
  const auto parsed = auth::parse_query(query, static_cast<std::size_t>(-1));
  return std::any_of(parsed.params.begin(), parsed.params.end(), [](const auth::QueryParam& q) {
    return q.key == "X-Amz-Algorithm" || q.key == "X-Amz-Credential" || q.key == "X-Amz-Signature";
  });
}

// Flips one byte of `s` (unless empty); returns whether anything changed.
bool flip(std::string& s, std::size_t at, std::uint8_t x) {
  if (s.empty() || x == 0) return false;
  s[at % s.size()] = static_cast<char>(s[at % s.size()] ^ x);
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  kvsd::fuzz::InputReader in({data, size});
  const std::string control = in.line();
  const auto c = [&](std::size_t i) -> std::uint8_t { return i < control.size() ? control[i] : 0; };
  Parts p;
  p.method = in.line();
  p.path = in.line();
  p.query = in.line();
  p.payload = in.line();
  while (!in.empty() && p.headers.size() < 80) {
    const std::string line = in.line();
    const auto colon = line.find(':', 1);  // a name may start with ':' (":authority")
    if (colon == std::string::npos) {
      p.headers.emplace_back(line, "");
    } else {
      p.headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
    }
  }
  const bool http2 = c(0) & 1;
  const auto now = kSignedAt + std::chrono::seconds{c(6) % 200};

  // 1. The request as received. With KVSD_FUZZ_TRACE set, each verdict is printed.
  static const bool trace = std::getenv("KVSD_FUZZ_TRACE") != nullptr;
  const auto raw = run_verify(p, http2, now);
  if (trace) std::fprintf(stderr, "as received: %s %s\n", raw.ok ? "ok" : "refused", raw.message.c_str());
  check(same(raw, run_verify(p, http2, now)), "verify() is deterministic");
  if (raw.ok) {
    check(raw.access_key_id == kKeyId, "an accepted request names the known key");
    check(!raw.signed_payload_sha256.empty() || p.payload.empty(), "an accepted request says what payload it signed");
  }

  // 2. Canonical forms.
  check_canonical_rules(p);

  // 3. Signed by sign().
  const std::string amz_date = auth::format_amz_date(kSignedAt);
  const Parts s = signable(p, amz_date);
  const auto parts = sign(s);
  check(sign(s).authorization == parts.authorization, "sign() is deterministic");
  Parts signed_req = s;
  signed_req.headers.emplace_back("Authorization", parts.authorization);
  const auto result = run_verify(signed_req, http2, now);
  const bool malformed_query =
      query_has_auth(s.query) || auth::parse_query(s.query, auth::VerifyOptions{}.max_query_params).too_many;
  if (malformed_query) {
    check(!result.ok && result.failure == auth::AuthFailure::malformed, "X-Amz-* query auth or too many parameters");
    return 0;
  }
  if (trace) std::fprintf(stderr, "signed: %s %s\n", result.ok ? "ok" : "refused", result.message.c_str());
  check(result.ok, "a request signed by sign() verifies");
  check(result.signed_payload_sha256 == s.payload, "the signature covers the given payload hash");
  check(canonical_as_verified(s, parts.signed_headers, http2, false) == parts.canonical_request,
        "the oracle's model of verify()'s canonical request holds for the signed request");

  // 4. One byte changed.
  Parts t = s;
  std::string signature = parts.signature;
  const std::size_t at = std::size_t{c(2)} << 8 | c(3);
  const std::uint8_t x = c(4) == 0 ? 1 : c(4);
  bool changed = false;
  bool never_verifies = false;
  std::size_t header = c(5) % s.headers.size();
  switch (c(1) % 8) {
    case 0:
      changed = flip(t.method, at, x);
      break;
    case 1:
      changed = flip(t.path, at, x);
      break;
    case 2:
      changed = flip(t.query, at, x);
      break;
    case 3:
      changed = flip(t.headers[header].second, at, x);
      break;
    case 4:
      changed = flip(t.headers[header].first, at, x);
      break;
    case 5:
      changed = flip(t.payload, at, x);
      break;
    case 6: {
      // Another lower-case hex digit: verify() lower-cases the signature, so case is no change.
      constexpr std::string_view kHex = "0123456789abcdef";
      char& d = signature[at % signature.size()];
      d = kHex[(kHex.find(d) + 1 + x % 15) % 16];
      changed = never_verifies = true;
      break;
    }
    default:
      header = s.headers.size() - 1;  // X-Amz-Date, added last
      changed = never_verifies = flip(t.headers[header].second, at, x);
      break;
  }
  if (!changed) return 0;
  Parts tampered = t;
  tampered.headers.emplace_back("Authorization",
                                parts.authorization.substr(0, parts.authorization.size() - 64) + signature);
  const auto after = run_verify(tampered, http2, now);
  if (trace)
    std::fprintf(stderr, "tampered part %d: %s %s\n", c(1) % 8, after.ok ? "ok" : "refused", after.message.c_str());
  // A header renamed to x-amz-content-sha256 brings in the payload rules; not modelled here.
  if (count(t.headers, "x-amz-content-sha256") > 0) return 0;
  const bool same_canonical =
      !never_verifies && count(t.headers, "authorization") == 0 && count(t.headers, "x-amz-date") == 1 &&
      (canonical_as_verified(t, parts.signed_headers, http2, false) == parts.canonical_request ||
       canonical_as_verified(t, parts.signed_headers, http2, true) == parts.canonical_request);
  if (same_canonical) {
    check(after.ok, "a change that keeps the canonical request still verifies");
  } else {
    check(!after.ok, "a one-byte change to a signed part fails verification");
  }
  return 0;
}
