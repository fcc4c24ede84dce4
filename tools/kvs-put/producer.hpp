#pragma once
// One producer = one stream, the stock SDK's startup sequence: DescribeStream; on 404
// CreateStream (DeviceName, StreamName, MediaType, DataRetentionInHours); GetDataEndpoint
// (PUT_MEDIA); then one PutMedia session.

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <string>

#include "put_media_session.hpp"

namespace kvsput {

struct ProducerConfig {
  std::string stream_name;
  int retention_hours = 2;                   // for CreateStream; an existing stream's own retention decides PERSISTED
  PutMediaConfig put_media;                  // stream_name and wait_persisted are filled in by run_producer
  std::chrono::milliseconds start_delay{0};  // wait this long before the first request
};

boost::asio::awaitable<SessionResult> run_producer(const ClientContext& ctx, const Endpoint& control_plane,
                                                   ProducerConfig config, const FrameStore& frames,
                                                   const SourceInfo& info, Stats& stats);

}  // namespace kvsput
