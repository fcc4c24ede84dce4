#pragma once
// The one mapping from kvs::errc to the AWS rest-json error shape:
// HTTP status, `x-amzn-ErrorType: <Name>`, `Content-Type: application/json`,
// body `{"__type":"<Name>","message":"..."}`.

#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "http/response_writer.hpp"
#include "kvs/error.hpp"

namespace kvsd::http {

struct AwsErrorShape {
  unsigned status;
  std::string_view type;
};

AwsErrorShape aws_shape(kvs::errc code) noexcept;
std::string aws_error_body(std::string_view type, std::string_view message);

// Sends the error as a complete response. The writer must not have started.
boost::asio::awaitable<boost::system::error_code> send_error(ResponseWriter& w, const kvs::Error& e);

// A handler's early exit: sends `err` when there is one and returns true (the handler then
// returns), else false: `if (co_await refused(w, parse(j, in))) co_return;`.
boost::asio::awaitable<bool> refused(ResponseWriter& w, const std::optional<kvs::Error>& err);
// The same for a result: sends its error, if it holds one.
template <class Result>
boost::asio::awaitable<bool> refused(ResponseWriter& w, const Result& result) requires requires {
  result.error();
}
{
  if (result) co_return false;
  co_await send_error(w, result.error());
  co_return true;
}

}  // namespace kvsd::http
