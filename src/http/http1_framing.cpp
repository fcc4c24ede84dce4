#include "http/http1_framing.hpp"

#include <string_view>

#include "http/headers.hpp"

namespace kvsd::http {

namespace bhttp = boost::beast::http;

const char* framing_problem(const bhttp::request_parser<bhttp::buffer_body>& p) {
  const auto& msg = p.get();
  std::size_t te_fields = 0;
  bool te_chunked = false;
  for (const auto& f : msg) {
    if (f.name() != bhttp::field::transfer_encoding) continue;
    ++te_fields;
    std::string_view v = f.value();
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    te_chunked = iequals(v, "chunked");
  }
  if (te_fields == 0) return nullptr;
  if (te_fields > 1 || !te_chunked) return "Transfer-Encoding other than a single chunked coding";
  if (msg.find(bhttp::field::content_length) != msg.end()) return "both Transfer-Encoding and Content-Length";
  return nullptr;
}

std::string fmt_hex(std::size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  do {
    out.insert(out.begin(), kDigits[n & 0xf]);
    n >>= 4;
  } while (n != 0);
  out += "\r\n";
  return out;
}

bool expects_continue(const bhttp::request_parser<bhttp::buffer_body>& p) {
  auto it = p.get().find(bhttp::field::expect);
  return it != p.get().end() && iequals(it->value(), "100-continue");
}

Request make_request(const bhttp::request<bhttp::buffer_body>& msg, std::shared_ptr<const ConnectionInfo> info) {
  Request req;
  req.method = std::string(msg.method_string());
  req.target = std::string(msg.target());
  split_target(req.target, req.path, req.query);
  for (const auto& f : msg) req.headers.add(std::string(f.name_string()), std::string(f.value()));
  if (auto host = req.headers.get("host")) req.authority = std::string(*host);
  req.protocol = Protocol::http1_1;
  req.connection = std::move(info);
  return req;
}

}  // namespace kvsd::http
