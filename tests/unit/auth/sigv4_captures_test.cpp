// SigV4 verification against every request the stock KVS C producer SDK (and kvssink) sent in the
// recorded runs of tests/data/sdk-captures/: each verifies with AKIDEXAMPLE / the example secret /
// us-west-2 with the clock pinned to its X-Amz-Date, and changing any signed part makes it fail.

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "auth/canonical.hpp"
#include "auth/sigv4.hpp"
#include "capture.hpp"

namespace kvsd::auth {
namespace {

using testing::Capture;

const std::string kDir = std::string(KVSD_TEST_DATA_DIR) + "/sdk-captures";
constexpr std::string_view kAkid = "AKIDEXAMPLE";
constexpr std::string_view kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

const std::vector<std::string> kH1Names = {
    "realtime-h264/01-describeStream",
    "realtime-h264/02-createStream",
    "realtime-h264/03-getDataEndpoint",
    "realtime-h264/04-putMedia",
    "audio-video-relative/01-describeStream",
    "audio-video-relative/02-createStream",
    "audio-video-relative/03-getDataEndpoint",
    "audio-video-relative/04-putMedia",
    "audio-only-relative/04-putMedia",
    "offline-h265/04-putMedia",
    "reconnect-replay/04-putMedia",
    "reconnect-replay/05-putMedia",
    "session-token/01-describeStream",
    "session-token/02-createStream",
    "kvssink-h264/01-describeStream",
    "kvssink-h264/02-createStream",
    "kvssink-h264/03-getDataEndpoint",
    "kvssink-h264/04-putMedia",
    "kvssink-av/01-describeStream",
    "kvssink-av/02-createStream",
    "kvssink-av/03-getDataEndpoint",
    "kvssink-av/04-putMedia",
};

// The h2 run's bodies are not in its log. DescribeStream and GetDataEndpoint bodies depend only on
// the stream name (harness-stream, same lengths), so the realtime-h264 ones are used; CreateStream
// carries a random DeviceName, so its body (and thus its signature) cannot be reconstructed.
std::vector<Capture> load_h2() {
  std::map<std::string, Capture> bodies;
  bodies["/describeStream"] = testing::load_h1_capture(kDir, "realtime-h264/01-describeStream");
  bodies["/getDataEndpoint"] = testing::load_h1_capture(kDir, "realtime-h264/03-getDataEndpoint");
  return testing::parse_h2_log(testing::read_file(kDir + "/http2/requests-h2.txt"), bodies);
}

std::vector<Capture> all_captures() {
  std::vector<Capture> out;
  for (const auto& n : kH1Names) out.push_back(testing::load_h1_capture(kDir, n));
  for (auto& c : load_h2()) out.push_back(std::move(c));
  return out;
}

bool signature_checkable(const Capture& c) { return c.streamed || c.body.has_value(); }

// Every capture whose signature can be checked, then the JSON calls (body signed), then PutMedia.
std::vector<Capture> checkable_captures() {
  std::vector<Capture> out = all_captures();
  std::erase_if(out, [](const Capture& c) { return !signature_checkable(c); });
  return out;
}
std::vector<Capture> json_captures() {
  std::vector<Capture> out = checkable_captures();
  std::erase_if(out, [](const Capture& c) { return c.streamed; });
  return out;
}
std::vector<Capture> put_media_captures() {
  std::vector<Capture> out = checkable_captures();
  std::erase_if(out, [](const Capture& c) { return !c.streamed; });
  return out;
}

SignedRequest to_request(const Capture& c) {
  SignedRequest r;
  r.method = c.method;
  r.path = c.path;
  r.query = c.query;
  r.headers = c.headers;
  r.http2 = c.http2;
  r.payload_sha256_hex = c.streamed ? std::string(kEmptySha256Hex) : sha256_hex(c.body.value_or(""));
  return r;
}

std::chrono::system_clock::time_point signed_at(const Capture& c) {
  auto t = parse_amz_date(trim(c.header("x-amz-date").value_or("")));
  if (!t) throw std::runtime_error(c.name + ": no X-Amz-Date");
  return *t;
}

std::vector<std::string> signed_header_names(const Capture& c) {
  std::string auth = c.header("authorization").value();
  std::size_t b = auth.find("SignedHeaders=") + 14, e = auth.find(',', b);
  std::vector<std::string> out;
  std::string list = auth.substr(b, e - b);
  for (std::size_t s = 0; s <= list.size();) {
    std::size_t semi = std::min(list.find(';', s), list.size());
    out.push_back(list.substr(s, semi - s));
    s = semi + 1;
  }
  return out;
}

class SigV4Captures : public ::testing::TestWithParam<Capture> {
 protected:
  StaticCredentialStore store_{{{std::string(kAkid), std::string(kSecret)}}};
  VerifyOptions options_{.region = "us-west-2"};

  AuthResult check(const SignedRequest& r, std::chrono::system_clock::time_point now) const {
    return verify(r, store_, now, options_);
  }
  AuthResult check(const SignedRequest& r) const { return check(r, signed_at(GetParam())); }
};

// Changes one byte of s (a middle one, staying printable and different).
std::string alter(std::string s) {
  std::size_t i = s.size() / 2;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  if (i == s.size()) return s + "x";
  s[i] = s[i] == 'x' ? 'y' : (s[i] == '1' ? '2' : 'x');
  return s;
}

TEST_P(SigV4Captures, Verifies) {
  const Capture& c = GetParam();
  AuthResult r = check(to_request(c));
  EXPECT_TRUE(r.ok) << c.name << ": " << to_string(r.failure) << ": " << r.message << "\n" << r.canonical_request;
  EXPECT_EQ(r.access_key_id, kAkid);
  EXPECT_EQ(r.region, "us-west-2");
  EXPECT_FALSE(r.presigned);
  // Any region is accepted when none is configured.
  EXPECT_TRUE(verify(to_request(c), store_, signed_at(c), VerifyOptions{}).ok);
}

TEST_P(SigV4Captures, AlteredMethodPathOrSignatureFails) {
  const Capture& c = GetParam();
  SignedRequest r = to_request(c);
  std::string method = alter(c.method), path = alter(c.path);
  r.method = method;
  EXPECT_EQ(check(r).failure, AuthFailure::signature_mismatch);
  r = to_request(c);
  r.path = path;
  EXPECT_EQ(check(r).failure, AuthFailure::signature_mismatch);
  r = to_request(c);
  for (auto& [n, v] : r.headers) {
    if (n == "Authorization" || n == "authorization") v.back() = v.back() == '0' ? '1' : '0';
  }
  AuthResult res = check(r);
  EXPECT_FALSE(res.ok);
  EXPECT_EQ(res.failure, AuthFailure::signature_mismatch);
}

TEST_P(SigV4Captures, AlteredSignedHeaderFails) {
  const Capture& c = GetParam();
  for (const std::string& name : signed_header_names(c)) {
    SignedRequest r = to_request(c);
    bool found = false;
    for (auto& [n, v] : r.headers) {
      std::string ln = n;
      std::transform(ln.begin(), ln.end(), ln.begin(), [](char ch) { return static_cast<char>(std::tolower(ch)); });
      if (ln != name) continue;
      found = true;
      // For the date change a seconds digit: still parsable, same day, within the skew.
      if (name == "x-amz-date") {
        v[v.size() - 2] = v[v.size() - 2] == '0' ? '1' : '0';
      } else {
        v = alter(v);
      }
    }
    // HTTP/2: connection / transfer-encoding are restored; sending other values must fail too.
    if (!found) {
      ASSERT_TRUE(c.http2 && (name == "connection" || name == "transfer-encoding")) << c.name << " " << name;
      r.headers.emplace_back(name, "close");
    }
    AuthResult res = check(r);
    EXPECT_EQ(res.failure, AuthFailure::signature_mismatch) << c.name << ": " << name << " " << res.message;
    EXPECT_FALSE(res.ok);
  }
}

TEST_P(SigV4Captures, MissingSignedHeaderFails) {
  const Capture& c = GetParam();
  SignedRequest r = to_request(c);
  std::erase_if(r.headers, [](const auto& h) { return h.first == "user-agent"; });
  AuthResult res = check(r);
  EXPECT_EQ(res.failure, AuthFailure::signature_mismatch);
  EXPECT_NE(res.message.find("user-agent"), std::string::npos);
}

TEST_P(SigV4Captures, AlteredDateDayIsABadScope) {
  const Capture& c = GetParam();
  SignedRequest r = to_request(c);
  for (auto& [n, v] : r.headers) {
    if (n == "X-Amz-Date" || n == "x-amz-date") {
      std::string date(trim(v));
      v = date.substr(0, 6) + "25" + date.substr(8);
    }
  }
  EXPECT_EQ(check(r).failure, AuthFailure::bad_scope);
}

class SigV4JsonCaptures : public SigV4Captures {};
class SigV4PutMediaCaptures : public SigV4Captures {};

TEST_P(SigV4JsonCaptures, AlteredBodyFails) {
  const Capture& c = GetParam();
  SignedRequest r = to_request(c);
  r.payload_sha256_hex = sha256_hex(alter(*c.body));
  EXPECT_EQ(check(r).failure, AuthFailure::signature_mismatch);
}

TEST_P(SigV4PutMediaCaptures, SignsTheEmptyPayloadNotTheBody) {
  const Capture& c = GetParam();
  SignedRequest r = to_request(c);
  r.payload_sha256_hex = sha256_hex("\x1a\x45\xdf\xa3");  // as if the MKV body had been hashed
  EXPECT_EQ(check(r).failure, AuthFailure::signature_mismatch);
}

TEST_P(SigV4Captures, WrongSecretUnknownKeyRegionAndServiceFail) {
  const Capture& c = GetParam();
  SignedRequest r = to_request(c);
  StaticCredentialStore wrong_secret{{{std::string(kAkid), std::string(alter(std::string(kSecret)))}}};
  AuthResult res = verify(r, wrong_secret, signed_at(c), options_);
  EXPECT_EQ(res.failure, AuthFailure::signature_mismatch);
  EXPECT_EQ(res.message.find(kSecret), std::string::npos);
  EXPECT_EQ(res.canonical_request.find(kSecret), std::string::npos);

  StaticCredentialStore other_key{{{"AKIDOTHER", std::string(kSecret)}}};
  EXPECT_EQ(verify(r, other_key, signed_at(c), options_).failure, AuthFailure::unknown_key);

  EXPECT_EQ(verify(r, store_, signed_at(c), VerifyOptions{.region = "eu-west-1"}).failure, AuthFailure::wrong_region);
  EXPECT_EQ(verify(r, store_, signed_at(c), VerifyOptions{.region = "", .service = "s3"}).failure,
            AuthFailure::wrong_service);
}

TEST_P(SigV4Captures, ClockSkew) {
  const Capture& c = GetParam();
  SignedRequest r = to_request(c);
  using std::chrono::minutes;
  EXPECT_TRUE(check(r, signed_at(c) + minutes(14)).ok);
  EXPECT_TRUE(check(r, signed_at(c) - minutes(14)).ok);
  EXPECT_EQ(check(r, signed_at(c) + minutes(20)).failure, AuthFailure::expired);
  EXPECT_EQ(check(r, signed_at(c) - minutes(20)).failure, AuthFailure::expired);
}

std::string param_name(const ::testing::TestParamInfo<Capture>& info) {
  std::string s = info.param.name;
  for (char& ch : s) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return s;
}

INSTANTIATE_TEST_SUITE_P(Sdk, SigV4Captures, ::testing::ValuesIn(checkable_captures()), param_name);
INSTANTIATE_TEST_SUITE_P(Sdk, SigV4JsonCaptures, ::testing::ValuesIn(json_captures()), param_name);
INSTANTIATE_TEST_SUITE_P(Sdk, SigV4PutMediaCaptures, ::testing::ValuesIn(put_media_captures()), param_name);

TEST(SigV4CaptureSet, AllCapturesParsedAndOnlyH2CreateStreamLacksABody) {
  std::vector<Capture> all = all_captures();
  EXPECT_EQ(all.size(), kH1Names.size() + 4);
  std::vector<std::string> unknown;
  for (const auto& c : all) {
    if (!signature_checkable(c)) unknown.push_back(c.method + " " + c.path + " (" + c.name + ")");
  }
  EXPECT_EQ(unknown, std::vector<std::string>{"POST /createStream (http2/id=2)"});
  EXPECT_EQ(checkable_captures().size(), all.size() - 1);
  EXPECT_EQ(json_captures().size(), 16u);
  EXPECT_EQ(put_media_captures().size(), 9u);
}

// Its body has a random DeviceName that the log does not show; everything up to the signature
// (scope, time, key, signed headers present) still checks out.
TEST(SigV4CaptureSet, H2CreateStreamWithUnknownBodyGetsAsFarAsTheSignature) {
  StaticCredentialStore store{{{std::string(kAkid), std::string(kSecret)}}};
  for (const Capture& c : load_h2()) {
    if (signature_checkable(c)) continue;
    AuthResult r = verify(to_request(c), store, signed_at(c), VerifyOptions{.region = "us-west-2"});
    EXPECT_EQ(r.failure, AuthFailure::signature_mismatch) << r.message;
    EXPECT_EQ(r.message.find("not in the request"), std::string::npos) << r.message;
  }
}

TEST(SigV4CaptureSet, SessionTokenIsAcceptedUnsignedAndReturned) {
  StaticCredentialStore store{{{std::string(kAkid), std::string(kSecret)}}};
  for (const char* name : {"session-token/01-describeStream", "session-token/02-createStream"}) {
    Capture c = testing::load_h1_capture(kDir, name);
    ASSERT_EQ(signed_header_names(c), (std::vector<std::string>{"host", "user-agent", "x-amz-date"}));
    SignedRequest r = to_request(c);
    AuthResult res = verify(r, store, signed_at(c), VerifyOptions{.region = "us-west-2"});
    EXPECT_TRUE(res.ok) << res.message;
    EXPECT_EQ(res.security_token, "FAKESESSIONTOKEN/abc+123=");
    // Not signed, so a different token still verifies (validating it is the caller's business).
    for (auto& [n, v] : r.headers) {
      if (n == "x-amz-security-token") v = " OTHER";
    }
    res = verify(r, store, signed_at(c), VerifyOptions{.region = "us-west-2"});
    EXPECT_TRUE(res.ok);
    EXPECT_EQ(res.security_token, "OTHER");
  }
}

TEST(SigV4CaptureSet, H2PutMediaNeedsTheHttp2Restore) {
  for (const Capture& c : load_h2()) {
    if (c.path != "/putMedia") continue;
    EXPECT_FALSE(c.header("connection") || c.header("transfer-encoding"));
    StaticCredentialStore store{{{std::string(kAkid), std::string(kSecret)}}};
    SignedRequest r = to_request(c);
    EXPECT_TRUE(verify(r, store, signed_at(c), {}).ok);
    r.http2 = false;
    AuthResult res = verify(r, store, signed_at(c), {});
    EXPECT_EQ(res.failure, AuthFailure::signature_mismatch);
    EXPECT_NE(res.message.find("connection"), std::string::npos);
    // An h2 layer that passes :authority instead of host works too.
    r.http2 = true;
    for (auto& [n, v] : r.headers) {
      if (n == "host") n = ":authority";
    }
    EXPECT_TRUE(verify(r, store, signed_at(c), {}).ok);
    return;
  }
  FAIL() << "no h2 putMedia in the log";
}

}  // namespace
}  // namespace kvsd::auth
