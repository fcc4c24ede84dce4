// SigV4 verifier against vectors from an independent implementation (botocore), the AWS docs'
// get-vanilla example, and the failure paths.
//
// The botocore vectors were made on this machine with Debian's python3-botocore 1.29.27 by signing
// AWSRequest objects with a frozen clock (2026-11-24T08:27:18Z), credentials AKIDEXAMPLE /
// wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY (token FQoGZXIvYXdzEXAMPLE/token+abc= where noted):
//
//   class Frozen(datetime.datetime):
//       @classmethod
//       def utcnow(cls): return datetime.datetime(2026, 11, 24, 8, 27, 18)
//   def sign(cls, creds, service, region, method, url, headers, body=b'', **kw):
//       req = AWSRequest(method=method, url=url, headers=headers, data=body)
//       with mock.patch.object(botocore.auth.datetime, 'datetime', Frozen):
//           cls(creds, service, region, **kw).add_auth(req)
//       p = req.prepare(); print(p.url, dict(p.headers))
//   sign(SigV4Auth, c, 'kinesisvideo', 'us-west-2', 'POST', 'https://127.0.0.1:8443/describeStream',
//        {'Content-Type': 'application/json', 'User-Agent': kBotoUa}, b'{"StreamName": "botocore-stream"}')
//   sign(SigV4Auth, c_with_token, ..., 'POST', 'https://127.0.0.1:8443/listStreams',
//        {'Content-Type': 'application/json', 'User-Agent': 'Boto3/1.26.27'}, b'{}')
//   sign(S3SigV4Auth, c, 'kinesisvideo', ..., 'POST', '.../describeStream', {'Content-Type': ...}, same body)
//   sign(SigV4Auth, c, ..., 'POST', '.../listStreams', {'Content-Type': ..., 'X-Amz-Meta-Note': '  a   b\tc  '},
//        b'{"MaxResults": 5}')
//   sign(SigV4QueryAuth, c, ..., 'GET', 'https://127.0.0.1:8443/getMedia?StreamName=my%20stream&b=a%2Fb&a=x~y',
//        {}, expires=300)
//   sign(S3SigV4QueryAuth, c_with_token, ..., 'GET',
//        'https://kinesisvideo.us-west-2.amazonaws.com/getMedia?StreamName=s1', {}, expires=900)
//   sign(SigV4Auth, c, 'service', 'us-east-1', 'GET', 'https://example.amazonaws.com/', {})  # at 20150830T123600Z
// botocore signs "host" from the URL (with the port when not 443); its HTTP client sends that Host.

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "auth/canonical.hpp"
#include "auth/sigv4.hpp"

namespace kvsd::auth {
namespace {

using namespace std::chrono_literals;
using Headers = std::vector<std::pair<std::string, std::string>>;

constexpr std::string_view kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr std::string_view kScope = "AKIDEXAMPLE/20261124/us-west-2/kinesisvideo/aws4_request";
constexpr std::string_view kBotoUa = "Boto3/1.26.27 Python/3.11.2 Linux/6.1 Botocore/1.29.27";
constexpr std::string_view kDescribeBody = R"({"StreamName": "botocore-stream"})";

const StaticCredentialStore kStore{{{"AKIDEXAMPLE", std::string(kSecret)}}};

std::chrono::system_clock::time_point at(std::string_view amz_date) { return parse_amz_date(amz_date).value(); }
const auto kSignedAt = at("20261124T082718Z");

AuthResult check(const SignedRequest& r, std::chrono::system_clock::time_point now = kSignedAt) {
  return verify(r, kStore, now, VerifyOptions{.region = "us-west-2"});
}

std::string authorization(std::string_view signed_headers, std::string_view signature) {
  return "AWS4-HMAC-SHA256 Credential=" + std::string(kScope) + ", SignedHeaders=" + std::string(signed_headers) +
         ", Signature=" + std::string(signature);
}

// botocore SigV4Auth, POST /describeStream with a port in Host.
SignedRequest boto_describe() {
  SignedRequest r{.method = "POST",
                  .path = "/describeStream",
                  .query = "",
                  .headers = {},
                  .http2 = false,
                  .payload_sha256_hex = sha256_hex(kDescribeBody)};
  r.headers =
      Headers{{"Host", "127.0.0.1:8443"},
              {"Content-Type", "application/json"},
              {"User-Agent", std::string(kBotoUa)},
              {"X-Amz-Date", "20261124T082718Z"},
              {"Authorization", authorization("content-type;host;x-amz-date",
                                              "305bdf51e080b98e776e81df107c08271c309b510225dfdb360360f455e8e5b9")},
              {"Content-Length", "33"}};
  return r;
}

void set_header(SignedRequest& r, std::string_view name, std::string value) {
  for (auto& [n, v] : r.headers) {
    if (n == name) {
      v = std::move(value);
      return;
    }
  }
  r.headers.emplace_back(std::string(name), std::move(value));
}

TEST(SigV4Verify, AwsDocsGetVanilla) {
  // GET / from the AWS SigV4 test suite; botocore 1.29.27 computes the same signature.
  StaticCredentialStore store{{{"AKIDEXAMPLE", std::string(kSecret)}}};
  SignedRequest r{.method = "GET",
                  .path = "/",
                  .query = "",
                  .headers = {},
                  .http2 = false,
                  .payload_sha256_hex = std::string(kEmptySha256Hex)};
  r.headers = Headers{{"Host", "example.amazonaws.com"},
                      {"X-Amz-Date", "20150830T123600Z"},
                      {"Authorization",
                       "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
                       "aws4_request, SignedHeaders=host;x-amz-date, Signature="
                       "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"}};
  VerifyOptions opts{.region = "us-east-1", .service = "service"};
  AuthResult res = verify(r, store, at("20150830T123600Z"), opts);
  EXPECT_TRUE(res.ok) << res.message;

  // The pieces, as in the suite's get-vanilla.creq / .sts.
  std::string sts = string_to_sign("20150830T123600Z", "20150830/us-east-1/service/aws4_request",
                                   "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
                                   "host;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sts,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  EXPECT_EQ(compute_signature(kSecret, "20150830", "us-east-1", "service", sts),
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(SigV4Botocore, HeaderSignedWithPortInHost) {
  AuthResult res = check(boto_describe());
  EXPECT_TRUE(res.ok) << res.message << "\n" << res.canonical_request;
  EXPECT_EQ(res.signed_payload_sha256, sha256_hex(kDescribeBody));

  SignedRequest r = boto_describe();
  set_header(r, "Host", "127.0.0.1");  // Host is used verbatim: no port fix-ups
  EXPECT_EQ(check(r).failure, AuthFailure::signature_mismatch);
  r = boto_describe();
  set_header(r, "Content-Type", "application/x-amz-json-1.1");
  EXPECT_EQ(check(r).failure, AuthFailure::signature_mismatch);
  r = boto_describe();
  set_header(r, "User-Agent", "something else");  // botocore does not sign user-agent
  EXPECT_TRUE(check(r).ok);
  r = boto_describe();
  r.payload_sha256_hex = sha256_hex(R"({"StreamName": "botocore-streaM"})");
  EXPECT_EQ(check(r).failure, AuthFailure::signature_mismatch);
}

TEST(SigV4Botocore, SignedSessionToken) {
  SignedRequest r{.method = "POST",
                  .path = "/listStreams",
                  .query = "",
                  .headers = {},
                  .http2 = false,
                  .payload_sha256_hex = sha256_hex("{}")};
  r.headers =
      Headers{{"Host", "127.0.0.1:8443"},
              {"Content-Type", "application/json"},
              {"User-Agent", "Boto3/1.26.27"},
              {"X-Amz-Date", "20261124T082718Z"},
              {"X-Amz-Security-Token", "FQoGZXIvYXdzEXAMPLE/token+abc="},
              {"Authorization", authorization("content-type;host;x-amz-date;x-amz-security-token",
                                              "1c6c987b67dea9d70f9fa36acd9f9021ef6629df434a82184dadf103605b1149")}};
  AuthResult res = check(r);
  EXPECT_TRUE(res.ok) << res.message;
  EXPECT_EQ(res.security_token, "FQoGZXIvYXdzEXAMPLE/token+abc=");
  set_header(r, "X-Amz-Security-Token", "FQoGZXIvYXdzEXAMPLE/token+abd=");
  EXPECT_EQ(check(r).failure, AuthFailure::signature_mismatch);
}

TEST(SigV4Botocore, S3StyleContentSha256Header) {
  SignedRequest r = boto_describe();
  set_header(r, "X-Amz-Content-SHA256", "7a3876e232db82574977f8877d7cb14cfcb6aec645092ff70d603a3a7218527f");
  set_header(r, "Authorization",
             authorization("content-type;host;x-amz-content-sha256;x-amz-date",
                           "14f927f06b42f4aa5857fd119b9eafc7be73769e2222904c16594e5cc373b43a"));
  std::erase_if(r.headers, [](const auto& h) { return h.first == "User-Agent"; });
  AuthResult res = check(r);
  EXPECT_TRUE(res.ok) << res.message << "\n" << res.canonical_request;
  EXPECT_EQ(res.signed_payload_sha256, sha256_hex(kDescribeBody));

  // The declared hash must match the body the server hashed...
  r.payload_sha256_hex = sha256_hex("{}");
  EXPECT_EQ(check(r).failure, AuthFailure::payload_mismatch);
  // ...unless the caller has not hashed it yet (streamed body): then it is handed back to check later.
  r.payload_sha256_hex.clear();
  res = check(r);
  EXPECT_TRUE(res.ok);
  EXPECT_EQ(res.signed_payload_sha256, "7a3876e232db82574977f8877d7cb14cfcb6aec645092ff70d603a3a7218527f");

  set_header(r, "X-Amz-Content-SHA256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD");
  EXPECT_EQ(check(r).failure, AuthFailure::malformed);
  set_header(r, "X-Amz-Content-SHA256", "not-a-hash");
  EXPECT_EQ(check(r).failure, AuthFailure::malformed);
}

TEST(SigV4Botocore, InnerWhitespaceCollapsedLikeBotocore) {
  SignedRequest r{.method = "POST",
                  .path = "/listStreams",
                  .query = "",
                  .headers = {},
                  .http2 = false,
                  .payload_sha256_hex = sha256_hex(R"({"MaxResults": 5})")};
  r.headers =
      Headers{{"Host", "127.0.0.1:8443"},
              {"Content-Type", "application/json"},
              {"X-Amz-Meta-Note", "  a   b\tc  "},
              {"X-Amz-Date", "20261124T082718Z"},
              {"Authorization", authorization("content-type;host;x-amz-date;x-amz-meta-note",
                                              "5d2ade6fda71c407e2c7d77083476c37b52b804fa9ec5598d281322546ec49aa")}};
  EXPECT_TRUE(check(r).ok);
  set_header(r, "X-Amz-Meta-Note", "a b c");  // collapsed in transit: same canonical value
  EXPECT_TRUE(check(r).ok);
  set_header(r, "X-Amz-Meta-Note", "a bc");
  EXPECT_EQ(check(r).failure, AuthFailure::signature_mismatch);
}

// botocore SigV4QueryAuth (kinesisvideo): payload = hash of the (empty) body.
constexpr std::string_view kPresignedQuery =
    "StreamName=my%20stream&b=a%2Fb&a=x~y&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20261124%2F"
    "us-west-2%2Fkinesisvideo%2Faws4_request&X-Amz-Date=20261124T082718Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host&"
    "X-Amz-Signature=01fdb91d8dae3d6751021eed59ba1e29a566f34b8b7c449d695bf83b8ddfdcfa";

SignedRequest presigned(std::string_view query) {
  SignedRequest r{.method = "GET",
                  .path = "/getMedia",
                  .query = query,
                  .headers = {},
                  .http2 = false,
                  .payload_sha256_hex = std::string(kEmptySha256Hex)};
  r.headers = Headers{{"Host", "127.0.0.1:8443"}, {"Accept-Encoding", "identity"}};
  return r;
}

TEST(SigV4Botocore, PresignedUrl) {
  AuthResult res = check(presigned(kPresignedQuery));
  EXPECT_TRUE(res.ok) << res.message << "\n" << res.canonical_request;
  EXPECT_TRUE(res.presigned);
  EXPECT_EQ(res.access_key_id, "AKIDEXAMPLE");
  EXPECT_EQ(res.signed_payload_sha256, kEmptySha256Hex);

  EXPECT_TRUE(check(presigned(kPresignedQuery), kSignedAt + 300s).ok);
  EXPECT_EQ(check(presigned(kPresignedQuery), kSignedAt + 301s).failure, AuthFailure::expired);
  EXPECT_TRUE(check(presigned(kPresignedQuery), kSignedAt - 14min).ok);  // client clock ahead, within skew
  EXPECT_EQ(check(presigned(kPresignedQuery), kSignedAt - 20min).failure, AuthFailure::expired);

  // Order and the spelling of escapes do not matter; the values do.
  std::string q(kPresignedQuery);
  std::string reordered = "a=x%7Ey&b=a%2fb&" + q.substr(q.find("&X-Amz-Algorithm") + 1) + "&StreamName=my%20stream";
  EXPECT_TRUE(check(presigned(reordered)).ok);
  std::string altered = q;
  altered.replace(altered.find("my%20stream"), 11, "my%20streaM");
  EXPECT_EQ(check(presigned(altered)).failure, AuthFailure::signature_mismatch);
  SignedRequest r = presigned(kPresignedQuery);
  set_header(r, "Host", "127.0.0.1:8444");
  EXPECT_EQ(check(r).failure, AuthFailure::signature_mismatch);
  // A header form on top of the query form is ambiguous.
  r = boto_describe();
  r.query = kPresignedQuery;
  EXPECT_EQ(check(r).failure, AuthFailure::malformed);
}

TEST(SigV4Botocore, S3StylePresignedUrlWithTokenUsesUnsignedPayload) {
  constexpr std::string_view kQuery =
      "StreamName=s1&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20261124%2Fus-west-2%2F"
      "kinesisvideo%2Faws4_request&X-Amz-Date=20261124T082718Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&"
      "X-Amz-Security-Token=FQoGZXIvYXdzEXAMPLE%2Ftoken%2Babc%3D&"
      "X-Amz-Signature=c29c3a854a78120a29f46a88054aff338b35fdd3a7539b805973f7566926aa95";
  SignedRequest r = presigned(kQuery);
  set_header(r, "Host", "kinesisvideo.us-west-2.amazonaws.com");
  AuthResult res = check(r);
  EXPECT_TRUE(res.ok) << res.message;
  EXPECT_EQ(res.signed_payload_sha256, kUnsignedPayload);
  EXPECT_EQ(res.security_token, "FQoGZXIvYXdzEXAMPLE/token+abc=");
  std::string altered(kQuery);
  altered.replace(altered.find("abc%3D"), 6, "abd%3D");
  r.query = altered;
  EXPECT_EQ(check(r).failure, AuthFailure::signature_mismatch);
}

TEST(SigV4Verify, PresignedParameterErrors) {
  std::string q(kPresignedQuery);
  auto with = [&](std::string_view from, std::string_view to) {
    std::string s = q;
    s.replace(s.find(from), from.size(), to);
    return check(presigned(s)).failure;
  };
  EXPECT_EQ(with("X-Amz-Expires=300", "X-Amz-Expires=0"), AuthFailure::malformed);
  EXPECT_EQ(with("X-Amz-Expires=300", "X-Amz-Expires=604801"), AuthFailure::malformed);
  EXPECT_EQ(with("X-Amz-Expires=300", "X-Amz-Expires=3a0"), AuthFailure::malformed);
  EXPECT_EQ(with("&X-Amz-SignedHeaders=host", ""), AuthFailure::malformed);
  EXPECT_EQ(with("X-Amz-Algorithm=AWS4-HMAC-SHA256", "X-Amz-Algorithm=AWS4-ECDSA-P256-SHA256"), AuthFailure::malformed);
  EXPECT_EQ(with("X-Amz-Date=20261124T082718Z", "X-Amz-Date=20261124T082718Z&X-Amz-Date=20261124T082718Z"),
            AuthFailure::malformed);
  EXPECT_EQ(with("X-Amz-SignedHeaders=host", "X-Amz-SignedHeaders=accept-encoding"), AuthFailure::malformed);
  EXPECT_EQ(with("X-Amz-SignedHeaders=host", "X-Amz-SignedHeaders=accept-encoding%3Bhost"),
            AuthFailure::signature_mismatch);
}

TEST(SigV4Verify, AuthorizationErrors) {
  SignedRequest r = boto_describe();
  std::erase_if(r.headers, [](const auto& h) { return h.first == "Authorization"; });
  EXPECT_EQ(check(r).failure, AuthFailure::missing);

  auto with_auth = [](std::string value) {
    SignedRequest req = boto_describe();
    set_header(req, "Authorization", std::move(value));
    return check(req);
  };
  const std::string sig = "305bdf51e080b98e776e81df107c08271c309b510225dfdb360360f455e8e5b9";
  EXPECT_EQ(with_auth("Basic QUtJRDpzZWNyZXQ=").failure, AuthFailure::malformed);
  EXPECT_EQ(with_auth("AWS4-HMAC-SHA256").failure, AuthFailure::malformed);
  EXPECT_EQ(with_auth("AWS4-HMAC-SHA256 Credential=" + std::string(kScope) + ", Signature=" + sig).failure,
            AuthFailure::malformed);
  EXPECT_EQ(with_auth(authorization("content-type;host;x-amz-date", sig.substr(1))).failure, AuthFailure::malformed);
  EXPECT_EQ(with_auth(authorization("content-type;x-amz-date", sig)).failure, AuthFailure::malformed);
  EXPECT_EQ(with_auth(authorization("Content-Type;host;x-amz-date", sig)).failure, AuthFailure::malformed);
  EXPECT_EQ(with_auth(authorization("host;host;x-amz-date", sig)).failure, AuthFailure::malformed);
  EXPECT_EQ(with_auth(authorization("content-type;host;x-amz-date", sig) + ", Extra=1").failure,
            AuthFailure::malformed);
  // Upper-case hex and other spacing are tolerated.
  std::string upper = sig;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_TRUE(with_auth(authorization("content-type;host;x-amz-date", upper)).ok);
  EXPECT_TRUE(with_auth("AWS4-HMAC-SHA256  Signature=" + sig + ",SignedHeaders=content-type;host;x-amz-date," +
                        "Credential=" + std::string(kScope))
                  .ok);

  auto with_scope = [&](std::string scope) {
    return with_auth("AWS4-HMAC-SHA256 Credential=" + scope +
                     ", SignedHeaders=content-type;host;x-amz-date, Signature=" + sig);
  };
  EXPECT_EQ(with_scope("AKIDEXAMPLE/20261124/us-west-2/kinesisvideo").failure, AuthFailure::malformed);
  EXPECT_EQ(with_scope("AKIDEXAMPLE/20261124/us-west-2/kinesisvideo/aws4_reques").failure, AuthFailure::bad_scope);
  EXPECT_EQ(with_scope("AKIDEXAMPLE/20261123/us-west-2/kinesisvideo/aws4_request").failure, AuthFailure::bad_scope);
  EXPECT_EQ(with_scope("AKIDEXAMPLE/20261124/us-east-1/kinesisvideo/aws4_request").failure, AuthFailure::wrong_region);
  EXPECT_EQ(with_scope("AKIDEXAMPLE/20261124/us-west-2/s3/aws4_request").failure, AuthFailure::wrong_service);
  AuthResult unknown = with_scope("AKIDNOBODY/20261124/us-west-2/kinesisvideo/aws4_request");
  EXPECT_EQ(unknown.failure, AuthFailure::unknown_key);
  EXPECT_EQ(unknown.access_key_id, "AKIDNOBODY");

  r = boto_describe();
  r.headers.emplace_back("authorization", authorization("content-type;host;x-amz-date", sig));
  EXPECT_EQ(check(r).failure, AuthFailure::malformed);
}

TEST(SigV4Verify, DateErrors) {
  SignedRequest r = boto_describe();
  std::erase_if(r.headers, [](const auto& h) { return h.first == "X-Amz-Date"; });
  EXPECT_EQ(check(r).failure, AuthFailure::malformed);
  set_header(r, "X-Amz-Date", "20261124T082718");
  EXPECT_EQ(check(r).failure, AuthFailure::malformed);
  set_header(r, "X-Amz-Date", "Tue, 24 Nov 2026 08:27:18 GMT");
  EXPECT_EQ(check(r).failure, AuthFailure::malformed);
  r = boto_describe();
  r.headers.emplace_back("x-amz-date", "20261124T082718Z");
  EXPECT_EQ(check(r).failure, AuthFailure::malformed);

  EXPECT_TRUE(check(boto_describe(), kSignedAt + 15min).ok);
  EXPECT_EQ(check(boto_describe(), kSignedAt + 15min + 1s).failure, AuthFailure::expired);
  EXPECT_EQ(check(boto_describe(), kSignedAt - 20min).failure, AuthFailure::expired);
  VerifyOptions lenient;
  lenient.max_skew = 30min;
  AuthResult res = verify(boto_describe(), kStore, kSignedAt + 20min, lenient);
  EXPECT_TRUE(res.ok);
}

TEST(SigV4Verify, MismatchNeverRevealsTheSecretOrTheExpectedSignature) {
  SignedRequest r = boto_describe();
  set_header(r, "Content-Type", "text/plain");
  AuthResult res = check(r);
  ASSERT_EQ(res.failure, AuthFailure::signature_mismatch);
  ASSERT_FALSE(res.string_to_sign.empty());
  std::string expected = compute_signature(kSecret, "20261124", "us-west-2", "kinesisvideo", res.string_to_sign);
  for (const std::string* s : {&res.message, &res.canonical_request, &res.string_to_sign}) {
    EXPECT_EQ(s->find(kSecret), std::string::npos);
    EXPECT_EQ(s->find(expected), std::string::npos);
  }
  EXPECT_NE(res.canonical_request.find("content-type:text/plain\n"), std::string::npos);
}

TEST(SigV4Verify, FailureNamesAndErrorCodes) {
  EXPECT_EQ(to_string(AuthFailure::signature_mismatch), "signature_mismatch");
  EXPECT_EQ(to_errc(AuthFailure::missing), kvs::errc::missing_authentication);
  EXPECT_EQ(to_errc(AuthFailure::expired), kvs::errc::request_expired);
  EXPECT_EQ(to_errc(AuthFailure::unknown_key), kvs::errc::not_authorized);
  EXPECT_EQ(to_errc(AuthFailure::wrong_region), kvs::errc::signature_does_not_match);
}

TEST(SigV4Verify, Limits) {
  std::string q(kPresignedQuery);
  for (int i = 0; i < 300; ++i) q += "&p" + std::to_string(i) + "=1";
  EXPECT_EQ(check(presigned(q)).failure, AuthFailure::malformed);
  SignedRequest r = boto_describe();
  std::string names = "content-type;host";
  for (int i = 0; i < 70; ++i) names += ";x-h" + std::to_string(i);
  set_header(r, "Authorization", authorization(names, std::string(64, 'a')));
  EXPECT_EQ(check(r).failure, AuthFailure::malformed);
}

}  // namespace
}  // namespace kvsd::auth
