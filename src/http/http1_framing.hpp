#pragma once
// HTTP/1.1 request-head rules of the session (http1_session.cpp), pure functions.

#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <cstddef>
#include <memory>
#include <string>

#include "http/request.hpp"

namespace kvsd::http {

// Why a parsed request head's framing is refused (RFC 9112 6.1: a Content-Length or exactly one
// `chunked` coding; anything else could be read differently by a proxy in front: request
// smuggling), or nullptr when it is fine.
const char* framing_problem(const boost::beast::http::request_parser<boost::beast::http::buffer_body>& p);

// Whether the client waits for "100 Continue" before it sends the body.
bool expects_continue(const boost::beast::http::request_parser<boost::beast::http::buffer_body>& p);

// The protocol-neutral Request of a parsed head (no body source yet), on connection `info`.
Request make_request(const boost::beast::http::request<boost::beast::http::buffer_body>& msg,
                     std::shared_ptr<const ConnectionInfo> info);

// The size line of a response chunk: `n` in lowercase hex, then CRLF.
std::string fmt_hex(std::size_t n);

}  // namespace kvsd::http
