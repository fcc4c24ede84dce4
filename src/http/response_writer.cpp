#include "http/response_writer.hpp"

#include <unistd.h>

#include <algorithm>
#include <boost/asio/error.hpp>
#include <boost/system/errc.hpp>
#include <cerrno>
#include <memory>

namespace kvsd::http {

namespace asio = boost::asio;
using boost::system::error_code;

Headers ResponseWriter::merged(Headers headers) const {
  for (const auto& [name, value] : defaults_) {
    if (!headers.contains(name)) headers.add(name, value);
  }
  return headers;
}

asio::awaitable<error_code> ResponseWriter::start(unsigned status, Headers headers) {
  if (failed_ || started()) co_return asio::error::operation_not_supported;
  status_ = status;
  Headers all = merged(std::move(headers));
  const bool has_length = all.contains("content-length");
  error_code ec = co_await do_start(status, all, has_length);
  if (ec) failed_ = true;
  co_return ec;
}

error_code ResponseWriter::counted(error_code ec, std::uint64_t bytes) {
  if (ec) {
    failed_ = true;
  } else {
    body_bytes_ += bytes;
  }
  return ec;
}

asio::awaitable<error_code> ResponseWriter::write(std::string_view data) {
  if (failed_ || !started() || finished_) co_return asio::error::operation_not_supported;
  if (data.empty()) co_return error_code{};
  const error_code ec = co_await do_write(data);  // (g++ 12: no co_await inside co_return's operand)
  co_return counted(ec, data.size());
}

asio::awaitable<error_code> ResponseWriter::write_file(FileRange range) {
  if (failed_ || !started() || finished_) co_return asio::error::operation_not_supported;
  if (range.size == 0) co_return error_code{};
  const error_code ec = co_await do_write_file(range);
  co_return counted(ec, range.size);
}

asio::awaitable<error_code> ResponseWriter::do_write_file(FileRange range) {
  static constexpr std::uint64_t kPiece = 256 * 1024;
  const auto piece = static_cast<std::size_t>(std::min(range.size, kPiece));
  auto buf = std::make_unique_for_overwrite<char[]>(piece);
  std::uint64_t done = 0;
  while (done < range.size) {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(piece, range.size - done));
    const auto n = ::pread(range.fd, buf.get(), want, static_cast<off_t>(range.offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) co_return boost::system::errc::make_error_code(boost::system::errc::io_error);
    if (auto ec = co_await do_write(std::string_view(buf.get(), static_cast<std::size_t>(n)))) co_return ec;
    done += static_cast<std::uint64_t>(n);
  }
  co_return error_code{};
}

asio::awaitable<error_code> ResponseWriter::finish() {
  if (failed_ || !started() || finished_) co_return asio::error::operation_not_supported;
  error_code ec = co_await do_finish();
  if (ec) {
    failed_ = true;
  } else {
    finished_ = true;
  }
  co_return ec;
}

asio::awaitable<error_code> ResponseWriter::send(unsigned status, Headers headers, std::string body) {
  if (failed_ || started()) co_return asio::error::operation_not_supported;
  status_ = status;
  Headers all = merged(std::move(headers));
  all.set("content-length", std::to_string(body.size()));
  const auto size = body.size();
  error_code ec = co_await do_send(status, all, std::move(body));
  if (ec) {
    failed_ = true;
  } else {
    finished_ = true;
    body_bytes_ += size;
  }
  co_return ec;
}

asio::awaitable<error_code> ResponseWriter::do_send(unsigned status, const Headers& headers, std::string body) {
  if (auto ec = co_await do_start(status, headers, true)) co_return ec;
  if (!body.empty()) {
    if (auto ec = co_await do_write(body)) co_return ec;
  }
  co_return co_await do_finish();
}

}  // namespace kvsd::http
