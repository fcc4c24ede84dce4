#include "http/request.hpp"

#include <array>
#include <boost/asio/error.hpp>

namespace kvsd::http {

const char* to_string(Protocol p) noexcept { return p == Protocol::http2 ? "HTTP/2" : "HTTP/1.1"; }

boost::asio::awaitable<BodyRead> Request::read_all(std::string& out, std::size_t max_bytes,
                                                   std::chrono::milliseconds within) {
  if (const auto declared = body->declared_length(); declared && *declared > max_bytes) {
    co_return BodyRead{0, boost::asio::error::message_size};
  }
  body->set_deadline(std::chrono::steady_clock::now() + within);
  std::array<std::byte, 16 * 1024> chunk{};
  for (;;) {
    BodyRead r = co_await body->read_some(chunk);
    if (r.ec) co_return r;
    if (r.bytes == 0) co_return BodyRead{out.size(), {}};
    if (out.size() + r.bytes > max_bytes) {
      co_return BodyRead{out.size(), boost::asio::error::message_size};
    }
    out.append(reinterpret_cast<const char*>(chunk.data()), r.bytes);
  }
}

void split_target(const std::string& target, std::string& path, std::string& query) {
  auto q = target.find('?');
  if (q == std::string::npos) {
    path = target;
    query.clear();
  } else {
    path = target.substr(0, q);
    query = target.substr(q + 1);
  }
}

}  // namespace kvsd::http
