#pragma once
// The kinesisvideo control plane: CreateStream, DescribeStream, ListStreams, DeleteStream,
// UpdateStream, UpdateDataRetention, GetDataEndpoint and the tag operations. Every route is
// SigV4-guarded with a buffered JSON body; store calls run on the offload pool, never on the
// connection's strand.

#include <boost/asio/thread_pool.hpp>
#include <string>

#include "api/authenticated.hpp"
#include "http/router.hpp"
#include "kvs/stream_store.hpp"

namespace kvsd::api {

// Everything the handlers use; must outlive the router.
struct ControlPlaneContext {
  const AuthContext* auth = nullptr;
  kvs::StreamStore* store = nullptr;
  boost::asio::thread_pool* pool = nullptr;  // blocking store calls run here
  // GetDataEndpoint answer; empty: <scheme of the listener>://<request host>:<local port>.
  std::string public_endpoint;
};

void add_control_plane_routes(http::Router& router, const ControlPlaneContext& ctx);

// The DataEndpoint for a request that arrived on a listener (tls, local_port) with the given
// Host / :authority (its port, if any, is ignored: the stock SDK sends Host without one).
// Exposed for tests.
std::string data_endpoint_for(bool tls, const std::string& authority, const std::string& local_address,
                              std::uint16_t local_port);

}  // namespace kvsd::api
