#pragma once
// The parameters of one PutMedia request, read from its headers (spec 3.1), and the ACK events
// it answers with (spec 3.2). Pure functions: no I/O, unit-tested on their own.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "http/headers.hpp"
#include "kvs/error.hpp"
#include "kvs/stream_store.hpp"

namespace kvsd::api {

enum class TimecodeType { absolute, relative };

struct PutMediaParams {
  kvs::StreamRef stream;  // exactly one of name / arn
  TimecodeType timecode_type = TimecodeType::absolute;
  // x-amzn-producer-start-timestamp in epoch ms; nullopt when absent. Needed in RELATIVE mode.
  std::optional<std::int64_t> producer_start_ms;
  bool ack_required = true;
};

// Validates the PutMedia headers. Errors are InvalidArgumentException with a message naming the
// header; a RELATIVE upload without a producer start timestamp is one of them.
std::optional<kvs::Error> parse_put_media_params(const http::Headers& headers, PutMediaParams& out);

// Parses x-amzn-producer-start-timestamp. The C producer prints `<seconds>.<milliseconds>` with
// the milliseconds NOT zero-padded (5 ms -> "1700000000.5"), so 1-3 fraction digits are taken as
// an integer count of milliseconds; 4 or more digits are a decimal fraction of a second (as
// other clients print it) and are truncated to ms. nullopt when malformed or negative.
std::optional<std::int64_t> parse_producer_start_timestamp(std::string_view s);

// ACK event types, spelled on the wire in upper case.
enum class AckType { buffering, received, persisted, idle, error };

struct Ack {
  AckType type = AckType::idle;
  std::optional<std::uint64_t> fragment_timecode;  // the Cluster Timecode as received
  std::string fragment_number;                     // empty: omitted
  int error_id = 0;                                // ERROR only
};

// One ACK as the producers parse it: a flat JSON object with the exact keys EventType,
// FragmentTimecode (unquoted integer), FragmentNumber (quoted decimal), ErrorId (ERROR only),
// followed by a newline. Well under 1,024 bytes (the SDK drops longer writes).
std::string format_ack(const Ack& ack);

}  // namespace kvsd::api
