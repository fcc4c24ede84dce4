#pragma once
// The one mapping from kvs::errc to the AWS rest-json error shape:
// HTTP status, `x-amzn-ErrorType: <Name>`, `Content-Type: application/json`,
// body `{"__type":"<Name>","message":"..."}`.

#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>
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

}  // namespace kvsd::http
