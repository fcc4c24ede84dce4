#pragma once
// One PutMedia upload, full duplex, as the stock SDK does it on HTTP/1.1: the signed request head
// with Expect: 100-continue, then a chunked MKV body (header, one Cluster per fragment, optional
// END_OF_FRAGMENT Tags, a final END_OF_FRAGMENT), while a reader parses the chunked ACK stream
// on the same connection. At the end it waits for PERSISTED of every fragment (retention > 0),
// sends the final zero chunk and reads the response to its end.
//
// Threading: runs on the calling coroutine's executor (one strand per producer); the frame store
// and Stats are the only shared state.

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <string>

#include "endpoint.hpp"
#include "frame_store.hpp"
#include "options.hpp"
#include "stats.hpp"

namespace kvsput {

struct PutMediaConfig {
  std::string stream_name;
  TimecodeType timecode_type = TimecodeType::absolute;
  bool realtime = false;
  double max_rate_bytes_per_second = 0;  // > 0: frame bytes are sent no faster than this
  bool eofr = false;
  bool wait_persisted = true;  // the stream retains data: PERSISTED expected for every fragment
  std::chrono::milliseconds ack_timeout{30'000};
  std::string dump_path;  // write the MKV body bytes here (no chunk framing); empty: none
};

struct SessionResult {
  bool ok = false;
  std::string error;  // first problem, for humans
  int http_status = 0;
  std::size_t fragments = 0, received = 0, persisted = 0, errors = 0;
  std::size_t unmatched_acks = 0;  // ACKs whose FragmentTimecode matches no fragment sent
  std::uint64_t body_bytes = 0;
};

// Largest chunk kvs-put sends when not pacing in real time.
inline constexpr std::size_t kMaxChunkBytes = 256 * 1024;
// Audio-only streams: a new fragment every this many ms (no key frames to cut on).
inline constexpr std::int64_t kAudioOnlyFragmentMs = 1000;

boost::asio::awaitable<SessionResult> run_put_media(const ClientContext& ctx, const Endpoint& data_endpoint,
                                                    const PutMediaConfig& config, const FrameStore& frames,
                                                    const SourceInfo& info, Stats& stats);

}  // namespace kvsput
