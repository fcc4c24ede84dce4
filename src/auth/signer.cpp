#include "auth/signer.hpp"

#include <algorithm>
#include <cstdio>

#include "auth/canonical.hpp"
#include "auth/sigv4.hpp"

namespace kvsd::auth {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

std::string format_amz_date(std::chrono::system_clock::time_point tp) {
  using namespace std::chrono;
  const auto secs = floor<seconds>(tp);
  const auto midnight = floor<days>(secs);
  const year_month_day ymd{midnight};
  const hh_mm_ss hms{secs - midnight};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d%02u%02uT%02d%02d%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

bool c_producer_skips_header(std::string_view name) noexcept {
  static constexpr std::string_view kSkipped[] = {"authorization",        "content-type", "content-length",
                                                  "x-amz-security-token", "accept",       "expect"};
  return std::any_of(std::begin(kSkipped), std::end(kSkipped), [&](std::string_view s) {
    return s.size() == name.size() && std::equal(s.begin(), s.end(), name.begin(), [](char a, char b) {
             return a == ((b >= 'A' && b <= 'Z') ? static_cast<char>(b - 'A' + 'a') : b);
           });
  });
}

SignedParts sign(const SigningRequest& req, const Credentials& credentials, const SigningScope& scope,
                 std::chrono::system_clock::time_point at) {
  // Lower-cased name -> values in order; std::stable_sort keeps repeated names in sent order.
  std::vector<std::pair<std::string, std::string>> headers;
  headers.reserve(req.headers.size());
  for (const auto& [name, value] : req.headers) headers.emplace_back(lower(name), std::string(trim(value)));
  std::stable_sort(headers.begin(), headers.end(), [](const auto& a, const auto& b) { return a.first < b.first; });

  SignedParts out;
  std::string canonical_headers;
  for (std::size_t i = 0; i < headers.size(); ++i) {
    if (i > 0 && headers[i].first == headers[i - 1].first) {
      canonical_headers.pop_back();  // the '\n' of the previous value
      canonical_headers.append(",").append(headers[i].second).push_back('\n');
      continue;
    }
    if (!out.signed_headers.empty()) out.signed_headers.push_back(';');
    out.signed_headers.append(headers[i].first);
    canonical_headers.append(headers[i].first).append(":").append(headers[i].second).push_back('\n');
  }

  const ParsedQuery query = parse_query(req.query, static_cast<std::size_t>(-1));
  std::string& cr = out.canonical_request;
  cr.append(req.method).push_back('\n');
  cr.append(req.path.empty() ? std::string_view("/") : req.path).push_back('\n');
  cr.append(canonical_query_string(query.params)).push_back('\n');
  cr.append(canonical_headers).push_back('\n');
  cr.append(out.signed_headers).push_back('\n');
  cr.append(req.payload_sha256_hex);

  const std::string amz_date = format_amz_date(at);
  const std::string date8 = amz_date.substr(0, 8);
  const std::string scope_text = date8 + "/" + scope.region + "/" + scope.service + "/aws4_request";
  out.string_to_sign = string_to_sign(amz_date, scope_text, cr);
  out.signature =
      compute_signature(credentials.secret_access_key, date8, scope.region, scope.service, out.string_to_sign);
  out.authorization = std::string(kAlgorithm) + " Credential=" + credentials.access_key_id + "/" + scope_text +
                      ", SignedHeaders=" + out.signed_headers + ", Signature=" + out.signature;
  return out;
}

}  // namespace kvsd::auth
