#pragma once
// One control-plane call the way the C producer makes it: a new connection per call, POST of a
// JSON body, headers Host (no port), Accept, Authorization (SignedHeaders host;user-agent;
// x-amz-date, payload hash of the body), content-length, content-type, user-agent, X-Amz-Date.

#include <boost/asio/awaitable.hpp>
#include <string>

#include "endpoint.hpp"

namespace kvsput {

struct HttpResult {
  int status = 0;     // 0: transport failure, see error
  std::string body;   // response body (bounded by kMaxResponseBytes)
  std::string error;  // transport failure text
};

inline constexpr std::size_t kMaxResponseBytes = 1 << 20;

// `path` is appended to ep.base_path (e.g. "/describeStream"). Never throws for network errors.
// path and body must stay valid until the call completes.
boost::asio::awaitable<HttpResult> post_json(const ClientContext& ctx, const Endpoint& ep, std::string_view path,
                                             const std::string& body);

// The SigV4 header set for a request: adds X-Amz-Date and Authorization (and x-amz-security-token)
// to `headers` when ctx has credentials. The headers given are the signed ones.
void sign_headers(const ClientContext& ctx, std::string_view path, std::string_view payload_sha256_hex,
                  std::vector<std::pair<std::string, std::string>>& headers);

}  // namespace kvsput
