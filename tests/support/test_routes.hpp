#pragma once
// Routes that exist only in kvsd-testserver, for integration tests and benchmarks of the front
// end: they exercise streaming, full duplex and back-pressure without any KVS semantics.
//   POST /_test/echo                     each body chunk read is written back as one response chunk
//   POST /_test/sink?delay_ms=N&chunk=B  reads B bytes at a time, N ms apart; answers {"bytes":total}
//   GET  /_test/source?bytes=N           streams N bytes
//   GET  /_test/sleep?ms=N               answers after N ms
//   POST /_test/signed                   SigV4 with the buffered body hashed; answers
//                                        {"access_key_id":...,"body_bytes":N}
//   POST /_test/signed_stream            SigV4 with the empty-payload hash, then reads the
//                                        streamed body; answers {"bytes":N}

#include "api/authenticated.hpp"
#include "http/router.hpp"

namespace kvsd::testing {

void add_test_routes(http::Router& router, const api::AuthContext& auth);

}  // namespace kvsd::testing
