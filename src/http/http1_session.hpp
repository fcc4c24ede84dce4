#pragma once
// HTTP/1.1 server session on Boost.Beast: keep-alive, incremental request bodies (Content-Length
// and chunked), Expect: 100-continue answered at once, streamed chunked responses, and full
// duplex (a handler may write response chunks while the request body is still arriving).

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include "http/session_context.hpp"

namespace kvsd::http {

// Serves requests on `stream` until the peer closes, a timeout, a protocol error, or a graceful
// drain. `buffer` holds bytes already read from the stream (e.g. while sniffing the protocol).
// Runs on the connection's strand; returns after every handler it started has returned.
template <class Stream>
boost::asio::awaitable<void> run_http1_session(Stream& stream, boost::beast::flat_buffer buffer, SessionContext& ctx);

}  // namespace kvsd::http
