// The SigV4 signer against the stock SDK captures: re-signing each captured HTTP/1.1 request (the
// headers the C producer signs, its X-Amz-Date, the fake credentials) reproduces the captured
// Authorization header byte for byte; and what the signer produces verifies with verify().

#include "auth/signer.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "auth/canonical.hpp"
#include "auth/crypto.hpp"
#include "auth/sigv4.hpp"
#include "capture.hpp"

namespace kvsd::auth {
namespace {

using testing::Capture;

const std::string kDir = std::string(KVSD_TEST_DATA_DIR) + "/sdk-captures";
const Credentials kCreds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"};

const std::vector<std::string> kNames = {
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

std::vector<Capture> captures() {
  std::vector<Capture> out;
  for (const auto& n : kNames) out.push_back(testing::load_h1_capture(kDir, n));
  return out;
}

std::chrono::system_clock::time_point signed_at(const Capture& c) {
  auto t = parse_amz_date(trim(c.header("x-amz-date").value_or("")));
  if (!t) throw std::runtime_error(c.name + ": no X-Amz-Date");
  return *t;
}

SigningRequest to_signing_request(const Capture& c) {
  SigningRequest r;
  r.method = c.method;
  r.path = c.path;
  r.query = c.query;
  for (const auto& [n, v] : c.headers) {
    if (!c_producer_skips_header(n)) r.headers.emplace_back(n, v);
  }
  r.payload_sha256_hex = c.streamed ? std::string(kEmptySha256Hex) : sha256_hex(c.body.value_or(""));
  return r;
}

class SignerCaptures : public ::testing::TestWithParam<Capture> {};

TEST_P(SignerCaptures, ReproducesCapturedAuthorization) {
  const Capture& c = GetParam();
  const SignedParts s = sign(to_signing_request(c), kCreds, SigningScope{}, signed_at(c));
  EXPECT_EQ(s.authorization, std::string(trim(c.header("authorization").value())));
  EXPECT_EQ(s.signature.size(), 64u);
}

TEST_P(SignerCaptures, OtherSecretOrDateGivesOtherSignature) {
  const Capture& c = GetParam();
  const std::string captured(trim(c.header("authorization").value()));
  const Credentials other{kCreds.access_key_id, kCreds.secret_access_key + "x"};
  EXPECT_NE(sign(to_signing_request(c), other, SigningScope{}, signed_at(c)).authorization, captured);
  EXPECT_NE(sign(to_signing_request(c), kCreds, SigningScope{.region = "eu-west-1"}, signed_at(c)).authorization,
            captured);
  SigningRequest altered = to_signing_request(c);
  altered.payload_sha256_hex = sha256_hex("x");
  EXPECT_NE(sign(altered, kCreds, SigningScope{}, signed_at(c)).authorization, captured);
}

INSTANTIATE_TEST_SUITE_P(Sdk, SignerCaptures, ::testing::ValuesIn(captures()),
                         [](const ::testing::TestParamInfo<Capture>& i) {
                           std::string n;
                           for (char ch : i.param.name)
                             n.push_back(std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_');
                           return n;
                         });

TEST(Signer, FormatAmzDate) {
  using namespace std::chrono;
  const sys_seconds t = sys_days{year{2026} / 11 / 24} + hours{8} + minutes{27} + seconds{18};
  EXPECT_EQ(format_amz_date(t), "20261124T082718Z");
  EXPECT_EQ(format_amz_date(t + milliseconds{999}), "20261124T082718Z");
  EXPECT_EQ(parse_amz_date(format_amz_date(t)), t);
}

TEST(Signer, SkippedHeaders) {
  EXPECT_TRUE(c_producer_skips_header("Authorization"));
  EXPECT_TRUE(c_producer_skips_header("Content-Type"));
  EXPECT_TRUE(c_producer_skips_header("content-length"));
  EXPECT_TRUE(c_producer_skips_header("X-Amz-Security-Token"));
  EXPECT_TRUE(c_producer_skips_header("Expect"));
  EXPECT_FALSE(c_producer_skips_header("host"));
  EXPECT_FALSE(c_producer_skips_header("x-amz-date"));
  EXPECT_FALSE(c_producer_skips_header("transfer-encoding"));
}

// A PutMedia head signed now, with a port-less host, a query and a repeated header, verifies with
// the server's verifier; changing a signed header afterwards makes verification fail.
TEST(Signer, SignedRequestVerifies) {
  const auto now = std::chrono::system_clock::now();
  SignedRequest req;
  req.method = "POST";
  req.path = "/putMedia";
  req.query = "b=2&a=x%2Fy";
  req.headers = {{"connection", "keep-alive"},
                 {"host", "127.0.0.1"},
                 {"transfer-encoding", "chunked"},
                 {"user-agent", "AWS-PRODUCER-SDK-KVS/1.6.4  kvs-put"},
                 {"X-Amz-Date", format_amz_date(now)},
                 {"x-amzn-fragment-acknowledgment-required", "1"},
                 {"x-amzn-fragment-timecode-type", "ABSOLUTE"},
                 {"x-amzn-producer-start-timestamp", "1795508838.5"},
                 {"x-amzn-stream-name", "s1"},
                 {"x-custom", " a "},
                 {"X-Custom", "b"}};
  SigningRequest sreq{req.method, req.path, req.query, req.headers, std::string(kEmptySha256Hex)};
  const SignedParts s = sign(sreq, kCreds, SigningScope{}, now);
  EXPECT_EQ(s.signed_headers,
            "connection;host;transfer-encoding;user-agent;x-amz-date;x-amzn-fragment-acknowledgment-required;"
            "x-amzn-fragment-timecode-type;x-amzn-producer-start-timestamp;x-amzn-stream-name;x-custom");
  EXPECT_NE(s.canonical_request.find("\nx-custom:a,b\n"), std::string::npos) << s.canonical_request;
  EXPECT_NE(s.canonical_request.find("\na=x%2Fy&b=2\n"), std::string::npos) << s.canonical_request;

  req.headers.emplace_back("Authorization", s.authorization);
  req.headers.emplace_back("content-type", "application/json");
  req.payload_sha256_hex = std::string(kEmptySha256Hex);
  const StaticCredentialStore store({kCreds});
  const AuthResult ok = verify(req, store, now, VerifyOptions{.region = "us-west-2"});
  EXPECT_TRUE(ok.ok) << ok.message << "\n" << ok.canonical_request << "\n---\n" << s.canonical_request;

  req.headers[8].second = "s2";  // x-amzn-stream-name
  const AuthResult bad = verify(req, store, now, VerifyOptions{.region = "us-west-2"});
  EXPECT_FALSE(bad.ok);
  EXPECT_EQ(bad.failure, AuthFailure::signature_mismatch);
}

}  // namespace
}  // namespace kvsd::auth
