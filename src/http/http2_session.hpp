#pragma once
// HTTP/2 server session: nghttp2 fed from memory, one reader and one writer coroutine per
// connection and one coroutine per request stream running the Dispatcher, all on the
// connection's strand. Request bodies are acknowledged (WINDOW_UPDATE) only as handlers read
// them, so per-connection buffering stays within limits.h2_connection_window.

#include <boost/asio/awaitable.hpp>
#include <string>

#include "http/session_context.hpp"

namespace kvsd::http {

// Runs an HTTP/2 server session on an already-connected stream until the peer closes, a fatal
// protocol error, a timeout, or graceful drain completes. `initial` holds bytes already read from
// the socket (the client preface sniffed by the caller, possibly more). Runs on the connection's
// strand and sets ctx.on_drain for its duration. Returns after every handler it started has
// returned; the socket is closed on return.
template <class Stream>
boost::asio::awaitable<void> run_http2_session(Stream& stream, std::string initial, SessionContext& ctx);

}  // namespace kvsd::http
