#include "auth/sigv4.hpp"

#include <algorithm>
#include <cstdio>
#include <optional>

#include "auth/canonical.hpp"
#include "kvs/decimal.hpp"

namespace kvsd::auth {
namespace {

constexpr std::string_view kScopeTerminator = "aws4_request";
constexpr std::string_view kStreamingPrefix = "STREAMING-";

char ascii_lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return ascii_lower(x) == ascii_lower(y); });
}

bool is_lower_hex(std::string_view s) noexcept {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string to_lower_copy(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

// A header name as SignedHeaders may list it: lower-case token characters only.
bool is_signed_header_name(std::string_view s) noexcept {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == ':' ||
           c == '!' || c == '#' || c == '$' || c == '%' || c == '&' || c == '\'' || c == '*' || c == '+' || c == '^' ||
           c == '`' || c == '|' || c == '~';
  });
}

std::vector<std::string_view> header_values(const SignedRequest& req, std::string_view name) {
  std::vector<std::string_view> out;
  for (const auto& [n, v] : req.headers) {
    if (iequals(n, name)) out.emplace_back(v);
  }
  return out;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  while (true) {
    std::size_t pos = s.find(sep);
    out.push_back(s.substr(0, pos));
    if (pos == std::string_view::npos) return out;
    s.remove_prefix(pos + 1);
  }
}

struct Failure {
  AuthFailure failure;
  std::string message;
};

// The authentication parameters, from either form.
struct AuthParams {
  bool presigned = false;
  std::string algorithm;
  std::string credential;
  std::string signed_headers;
  std::string signature;
  std::string amz_date;
  std::string expires;  // presigned only
};

// "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=..." (components in any order,
// separated by ',' with optional spaces).
std::optional<Failure> parse_authorization(std::string_view value, AuthParams& out) {
  value = trim(value);
  std::size_t sp = value.find_first_of(" \t");
  out.algorithm = std::string(value.substr(0, sp));
  if (out.algorithm != kAlgorithm) {
    return Failure{AuthFailure::malformed,
                   "unsupported Authorization scheme '" + out.algorithm + "' (only AWS4-HMAC-SHA256 is supported)"};
  }
  if (sp == std::string_view::npos) return Failure{AuthFailure::malformed, "Authorization header has no components"};
  bool seen_credential = false, seen_signed = false, seen_signature = false;
  for (std::string_view part : split(value.substr(sp + 1), ',')) {
    part = trim(part);
    std::size_t eq = part.find('=');
    if (eq == std::string_view::npos) {
      return Failure{AuthFailure::malformed, "Authorization component without '=': '" + std::string(part) + "'"};
    }
    std::string_view key = part.substr(0, eq);
    std::string_view val = part.substr(eq + 1);
    auto take = [&](bool& seen, std::string& dst) -> std::optional<Failure> {
      if (seen) return Failure{AuthFailure::malformed, "Authorization repeats " + std::string(key)};
      seen = true;
      dst = std::string(val);
      return std::nullopt;
    };
    std::optional<Failure> f;
    if (key == "Credential") {
      f = take(seen_credential, out.credential);
    } else if (key == "SignedHeaders") {
      f = take(seen_signed, out.signed_headers);
    } else if (key == "Signature") {
      f = take(seen_signature, out.signature);
    } else {
      f = Failure{AuthFailure::malformed, "unknown Authorization component '" + std::string(key) + "'"};
    }
    if (f) return f;
  }
  if (!seen_credential || !seen_signed || !seen_signature) {
    return Failure{AuthFailure::malformed, "Authorization must have Credential, SignedHeaders and Signature"};
  }
  return std::nullopt;
}

std::optional<Failure> parse_query_auth(const std::vector<QueryParam>& params, AuthParams& out) {
  struct Slot {
    std::string_view key;
    std::string* dst;
    bool seen = false;
  };
  Slot slots[] = {{"X-Amz-Algorithm", &out.algorithm},
                  {"X-Amz-Credential", &out.credential},
                  {"X-Amz-Date", &out.amz_date},
                  {"X-Amz-Expires", &out.expires},
                  {"X-Amz-SignedHeaders", &out.signed_headers},
                  {"X-Amz-Signature", &out.signature}};
  for (const auto& p : params) {
    for (auto& s : slots) {
      if (p.key != s.key) continue;
      if (s.seen) return Failure{AuthFailure::malformed, "query repeats " + std::string(s.key)};
      s.seen = true;
      *s.dst = p.value;
    }
  }
  for (const auto& s : slots) {
    if (!s.seen) return Failure{AuthFailure::malformed, "presigned request lacks " + std::string(s.key)};
  }
  if (out.algorithm != kAlgorithm) {
    return Failure{AuthFailure::malformed, "unsupported X-Amz-Algorithm '" + out.algorithm + "'"};
  }
  out.presigned = true;
  return std::nullopt;
}

// One signed header: its name and the canonical value in both whitespace forms.
struct HeaderLine {
  std::string_view name;
  std::string trimmed;    // ends trimmed (C producer)
  std::string collapsed;  // inner runs collapsed too (botocore)
};

std::string build_canonical_request(const SignedRequest& req, std::string_view canonical_query,
                                    const std::vector<HeaderLine>& lines, bool collapsed,
                                    std::string_view signed_headers, std::string_view payload_hash) {
  std::string cr;
  cr.append(req.method).push_back('\n');
  cr.append(req.path.empty() ? std::string_view("/") : req.path).push_back('\n');
  cr.append(canonical_query).push_back('\n');
  for (const auto& l : lines) {
    cr.append(l.name).append(":").append(collapsed ? l.collapsed : l.trimmed).push_back('\n');
  }
  cr.push_back('\n');
  cr.append(signed_headers).push_back('\n');
  cr.append(payload_hash);
  return cr;
}

std::string format_amz_date(std::chrono::system_clock::time_point tp) {
  using namespace std::chrono;
  auto secs = floor<seconds>(tp);
  auto midnight = floor<std::chrono::days>(secs);
  year_month_day ymd{midnight};
  hh_mm_ss hms{secs - midnight};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d%02u%02uT%02d%02d%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

std::optional<Failure> check_time(const AuthParams& p, std::chrono::sys_seconds signed_at,
                                  std::chrono::system_clock::time_point now, const VerifyOptions& options) {
  auto skew = std::chrono::duration_cast<std::chrono::system_clock::duration>(options.max_skew);
  if (!p.presigned) {
    if (signed_at + skew >= now && signed_at - skew <= now) return std::nullopt;
    return Failure{AuthFailure::expired, "Signature expired: " + p.amz_date + " is more than " +
                                             std::to_string(options.max_skew.count()) + " s from the server time " +
                                             format_amz_date(now)};
  }
  const auto parsed = p.expires.size() <= 7 ? kvs::parse_decimal<std::uint32_t>(p.expires) : std::nullopt;
  if (!p.expires.empty() && !parsed) return Failure{AuthFailure::malformed, "X-Amz-Expires is not a number"};
  const long long expires = parsed.value_or(0);
  if (expires < 1 || expires > kMaxPresignedExpiry.count()) {
    return Failure{AuthFailure::malformed, "X-Amz-Expires must be between 1 and 604800 seconds"};
  }
  if (signed_at - skew > now) {
    return Failure{AuthFailure::expired,
                   "presigned request dated " + p.amz_date + " is in the future (now " + format_amz_date(now) + ")"};
  }
  if (now > signed_at + std::chrono::seconds{expires}) {
    return Failure{AuthFailure::expired, "presigned request expired: signed " + p.amz_date + " for " + p.expires +
                                             " s, now " + format_amz_date(now)};
  }
  return std::nullopt;
}

// For each name in SignedHeaders (in the order given) the received values, trimmed and collapsed.
// differs: collapsing changed some value, so both forms need trying.
std::optional<Failure> collect_signed_headers(const SignedRequest& req, std::string_view signed_headers,
                                              std::size_t max_names, std::vector<HeaderLine>& lines, bool& differs) {
  std::vector<std::string_view> names = split(signed_headers, ';');
  if (names.size() > max_names) return Failure{AuthFailure::malformed, "too many SignedHeaders"};
  lines.reserve(names.size());
  bool has_host = false;
  for (std::string_view name : names) {
    if (!is_signed_header_name(name)) {
      return Failure{AuthFailure::malformed,
                     "SignedHeaders entry '" + std::string(name) + "' is not a lower-case name"};
    }
    if (std::any_of(lines.begin(), lines.end(), [&](const HeaderLine& l) { return l.name == name; })) {
      return Failure{AuthFailure::malformed, "SignedHeaders repeats '" + std::string(name) + "'"};
    }
    has_host = has_host || name == "host";
    std::vector<std::string_view> values = header_values(req, name);
    if (values.empty() && name == "host") values = header_values(req, ":authority");
    if (values.empty() && req.http2 && name == "connection") values.emplace_back("keep-alive");
    if (values.empty() && req.http2 && name == "transfer-encoding") values.emplace_back("chunked");
    if (values.empty()) {
      return Failure{AuthFailure::signature_mismatch,
                     "signed header '" + std::string(name) + "' is not in the request"};
    }
    HeaderLine line{name, {}, {}};
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (i > 0) {
        line.trimmed.push_back(',');
        line.collapsed.push_back(',');
      }
      line.trimmed.append(trim(values[i]));
      line.collapsed.append(collapse_whitespace(values[i]));
    }
    differs = differs || line.trimmed != line.collapsed;
    lines.push_back(std::move(line));
  }
  if (!has_host) return Failure{AuthFailure::malformed, "SignedHeaders must include host"};
  return std::nullopt;
}

// The payload hashes the signature may cover (see sigv4.hpp).
std::optional<Failure> payload_candidates(const SignedRequest& req, bool presigned, std::vector<std::string>& out) {
  std::vector<std::string_view> declared = header_values(req, "x-amz-content-sha256");
  if (declared.size() > 1) return Failure{AuthFailure::malformed, "more than one x-amz-content-sha256 header"};
  if (declared.empty()) {
    out.push_back(req.payload_sha256_hex);
    if (presigned) out.emplace_back(kUnsignedPayload);
    return std::nullopt;
  }
  std::string value(trim(declared.front()));
  if (value.rfind(kStreamingPrefix, 0) == 0) {
    return Failure{AuthFailure::malformed, "chunk-signed payloads (" + value + ") are not supported"};
  }
  bool is_digest = value.size() == 64 && is_lower_hex(to_lower_copy(value));
  if (!is_digest && value != kUnsignedPayload) {
    return Failure{AuthFailure::malformed, "x-amz-content-sha256 must be a SHA-256 hex digest or UNSIGNED-PAYLOAD"};
  }
  if (is_digest && !req.payload_sha256_hex.empty() && to_lower_copy(value) != req.payload_sha256_hex) {
    return Failure{AuthFailure::payload_mismatch, "x-amz-content-sha256 does not match the body"};
  }
  out.push_back(std::move(value));
  return std::nullopt;
}

}  // namespace

std::string_view to_string(AuthFailure f) noexcept {
  switch (f) {
    case AuthFailure::missing:
      return "missing";
    case AuthFailure::malformed:
      return "malformed";
    case AuthFailure::unknown_key:
      return "unknown_key";
    case AuthFailure::bad_scope:
      return "bad_scope";
    case AuthFailure::wrong_region:
      return "wrong_region";
    case AuthFailure::wrong_service:
      return "wrong_service";
    case AuthFailure::expired:
      return "expired";
    case AuthFailure::payload_mismatch:
      return "payload_mismatch";
    case AuthFailure::signature_mismatch:
      return "signature_mismatch";
  }
  return "unknown";
}

kvs::errc to_errc(AuthFailure f) noexcept {
  switch (f) {
    case AuthFailure::missing:
      return kvs::errc::missing_authentication;
    case AuthFailure::unknown_key:
      return kvs::errc::not_authorized;
    case AuthFailure::expired:
      return kvs::errc::request_expired;
    case AuthFailure::malformed:
    case AuthFailure::bad_scope:
    case AuthFailure::wrong_region:
    case AuthFailure::wrong_service:
    case AuthFailure::payload_mismatch:
    case AuthFailure::signature_mismatch:
      return kvs::errc::signature_does_not_match;
  }
  return kvs::errc::signature_does_not_match;
}

std::string string_to_sign(std::string_view amz_date, std::string_view scope, std::string_view canonical_request) {
  std::string sts(kAlgorithm);
  sts.append("\n").append(amz_date).append("\n").append(scope).append("\n").append(sha256_hex(canonical_request));
  return sts;
}

std::string compute_signature(std::string_view secret, std::string_view date8, std::string_view region,
                              std::string_view service, std::string_view sts) {
  return to_hex(hmac_sha256(derive_signing_key(secret, date8, region, service), sts));
}

namespace {

// Step 1: which form (Authorization header or presigned query), and its parameters; the
// security token and, for the header form, X-Amz-Date.
std::optional<Failure> read_auth_form(const SignedRequest& req, const ParsedQuery& query, AuthParams& p,
                                      AuthResult& r) {
  const bool query_auth = std::any_of(query.params.begin(), query.params.end(), [](const QueryParam& q) {
    return q.key == "X-Amz-Algorithm" || q.key == "X-Amz-Credential" || q.key == "X-Amz-Signature";
  });
  const std::vector<std::string_view> authorization = header_values(req, "authorization");
  if (authorization.size() > 1) return Failure{AuthFailure::malformed, "more than one Authorization header"};
  if (!authorization.empty() && query_auth) {
    return Failure{AuthFailure::malformed, "both an Authorization header and X-Amz-* query authentication"};
  }
  if (authorization.empty() && !query_auth) {
    return Failure{AuthFailure::missing, "request has no Authorization header and no X-Amz-Signature"};
  }
  if (auto f = query_auth ? parse_query_auth(query.params, p) : parse_authorization(authorization.front(), p)) return f;
  r.presigned = p.presigned;
  if (auto tokens = header_values(req, "x-amz-security-token"); !tokens.empty()) {
    r.security_token = std::string(trim(tokens.front()));
  } else {
    for (const auto& q : query.params) {
      if (q.key == "X-Amz-Security-Token") r.security_token = q.value;
    }
  }
  if (!p.presigned) {
    const std::vector<std::string_view> dates = header_values(req, "x-amz-date");
    if (dates.size() != 1) return Failure{AuthFailure::malformed, "request needs exactly one X-Amz-Date header"};
    p.amz_date = std::string(trim(dates.front()));
  }
  if (p.signature.size() != 64 || !is_lower_hex(to_lower_copy(p.signature))) {
    return Failure{AuthFailure::malformed, "Signature is not 64 hex digits"};
  }
  p.signature = to_lower_copy(p.signature);
  return std::nullopt;
}

// The credential scope: <akid>/<yyyymmdd>/<region>/<service>/aws4_request (views into the
// AuthParams' credential) and the signing time.
struct Scope {
  std::string_view date8, region, service;
  std::chrono::sys_seconds signed_at;
};

// Step 2: the scope's form, its date against X-Amz-Date, its service and region.
std::optional<Failure> check_scope(const AuthParams& p, const VerifyOptions& options, AuthResult& r, Scope& scope) {
  const std::vector<std::string_view> parts = split(p.credential, '/');
  if (parts.size() != 5 || std::any_of(parts.begin(), parts.end(), [](std::string_view s) { return s.empty(); })) {
    return Failure{AuthFailure::malformed, "Credential must be <key>/<yyyymmdd>/<region>/<service>/aws4_request"};
  }
  r.access_key_id = std::string(parts[0]);
  r.region = std::string(parts[2]);
  scope.date8 = parts[1];
  scope.region = parts[2];
  scope.service = parts[3];
  if (parts[4] != kScopeTerminator)
    return Failure{AuthFailure::bad_scope, "credential scope must end with aws4_request"};
  const std::optional<std::chrono::sys_seconds> signed_at = parse_amz_date(p.amz_date);
  if (!signed_at) return Failure{AuthFailure::malformed, "X-Amz-Date '" + p.amz_date + "' is not yyyymmddThhmmssZ"};
  scope.signed_at = *signed_at;
  if (scope.date8 != std::string_view(p.amz_date).substr(0, 8)) {
    return Failure{AuthFailure::bad_scope,
                   "credential scope date " + std::string(scope.date8) + " does not match X-Amz-Date " + p.amz_date};
  }
  if (scope.service != options.service) {
    return Failure{AuthFailure::wrong_service,
                   "credential scope service '" + std::string(scope.service) + "' should be '" + options.service + "'"};
  }
  if (!options.region.empty() && scope.region != options.region) {
    return Failure{AuthFailure::wrong_region,
                   "credential scope region '" + std::string(scope.region) + "' should be '" + options.region + "'"};
  }
  return std::nullopt;
}

// Steps 5-7: the signed headers and their canonical values, the payload hash candidates, then
// every canonical request they allow, signed with the secret, against the given signature.
std::optional<Failure> check_signature(const SignedRequest& req, const ParsedQuery& query, const AuthParams& p,
                                       const Scope& scope, const std::string& secret, const VerifyOptions& options,
                                       AuthResult& r) {
  std::vector<HeaderLine> lines;
  bool differs = false;
  if (auto f = collect_signed_headers(req, p.signed_headers, options.max_signed_headers, lines, differs)) return f;
  std::vector<std::string> payloads;
  if (auto f = payload_candidates(req, p.presigned, payloads)) return f;

  const std::string canonical_query = canonical_query_string(query.params, p.presigned ? "X-Amz-Signature" : "");
  const std::string scope_text = std::string(scope.date8) + "/" + std::string(scope.region) + "/" +
                                 std::string(scope.service) + "/" + std::string(kScopeTerminator);
  const Digest key = derive_signing_key(secret, scope.date8, scope.region, scope.service);
  for (bool collapsed : {false, true}) {
    if (collapsed && !differs) break;
    for (const std::string& payload : payloads) {
      std::string cr = build_canonical_request(req, canonical_query, lines, collapsed, p.signed_headers, payload);
      std::string sts = string_to_sign(p.amz_date, scope_text, cr);
      const std::string expected = to_hex(hmac_sha256(key, sts));
      if (constant_time_equal(expected, p.signature)) {
        r.signed_payload_sha256 = payload;
        return std::nullopt;
      }
      if (r.canonical_request.empty()) {
        r.canonical_request = std::move(cr);
        r.string_to_sign = std::move(sts);
      }
    }
  }
  return Failure{AuthFailure::signature_mismatch,
                 "The request signature we calculated does not match the signature you provided. Check your AWS "
                 "Secret Access Key and signing method."};
}

// verify(), or with `credentials_only` its first four steps (check_credentials).
AuthResult verify_steps(const SignedRequest& req, const CredentialStore& store,
                        std::chrono::system_clock::time_point now, const VerifyOptions& options,
                        bool credentials_only) {
  AuthResult r;
  auto fail = [&r](Failure f) {
    r.ok = false;
    r.failure = f.failure;
    r.message = std::move(f.message);
    return r;
  };
  const ParsedQuery query = parse_query(req.query, options.max_query_params);
  if (query.too_many) return fail({AuthFailure::malformed, "too many query parameters"});
  AuthParams p;
  if (auto f = read_auth_form(req, query, p, r)) return fail(std::move(*f));  // 1. the form
  Scope scope;
  if (auto f = check_scope(p, options, r, scope)) return fail(std::move(*f));             // 2. the scope
  if (auto f = check_time(p, scope.signed_at, now, options)) return fail(std::move(*f));  // 3. the time
  const std::optional<std::string> secret = store.secret_for(r.access_key_id);            // 4. the key
  if (!secret) return fail({AuthFailure::unknown_key, "unknown access key id '" + r.access_key_id + "'"});
  if (!credentials_only) {
    if (auto f = check_signature(req, query, p, scope, *secret, options, r)) return fail(std::move(*f));  // 5-7
  }
  r.ok = true;
  r.message.clear();
  return r;
}

}  // namespace

AuthResult verify(const SignedRequest& req, const CredentialStore& store, std::chrono::system_clock::time_point now,
                  const VerifyOptions& options) {
  return verify_steps(req, store, now, options, false);
}

AuthResult check_credentials(const SignedRequest& req, const CredentialStore& store,
                             std::chrono::system_clock::time_point now, const VerifyOptions& options) {
  return verify_steps(req, store, now, options, true);
}

}  // namespace kvsd::auth
