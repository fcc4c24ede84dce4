#include "api/put_media_request.hpp"

#include <charconv>

#include "api/validation.hpp"
#include "kvs/decimal.hpp"

namespace kvsd::api {

namespace {

kvs::Error bad(std::string message) { return kvs::Error{kvs::errc::invalid_argument, std::move(message)}; }

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

const char* name(AckType t) {
  switch (t) {
    case AckType::buffering:
      return "BUFFERING";
    case AckType::received:
      return "RECEIVED";
    case AckType::persisted:
      return "PERSISTED";
    case AckType::idle:
      return "IDLE";
    case AckType::error:
      return "ERROR";
  }
  return "IDLE";
}

}  // namespace

std::optional<std::int64_t> parse_producer_start_timestamp(std::string_view s) {
  const auto dot = s.find('.');
  const auto sec_part = s.substr(0, dot);
  if (!all_digits(sec_part) || sec_part.size() > 12) return std::nullopt;
  const auto seconds = kvs::parse_decimal<std::int64_t>(sec_part);
  if (!seconds) return std::nullopt;
  std::int64_t millis = 0;
  if (dot != std::string_view::npos) {
    const auto frac = s.substr(dot + 1);
    if (!all_digits(frac) || frac.size() > 9) return std::nullopt;
    millis = kvs::parse_decimal<std::int64_t>(frac.substr(0, 3)).value_or(0);
  }
  return *seconds * 1000 + millis;
}

std::optional<kvs::Error> parse_put_media_params(const http::Headers& headers, PutMediaParams& out) {
  const auto name_h = headers.get("x-amzn-stream-name");
  const auto arn_h = headers.get("x-amzn-stream-arn");
  if (name_h.has_value() == arn_h.has_value())
    return bad("exactly one of the headers x-amzn-stream-name and x-amzn-stream-arn is required");
  if (name_h) {
    if (!validation::is_stream_name(*name_h)) return bad("x-amzn-stream-name: length 1-256, pattern [a-zA-Z0-9_.-]+");
    out.stream.name = std::string(*name_h);
  } else {
    if (arn_h->empty() || arn_h->size() > 1024) return bad("x-amzn-stream-arn: length 1-1024");
    out.stream.arn = std::string(*arn_h);
  }
  if (const auto t = headers.get("x-amzn-fragment-timecode-type")) {
    if (*t == "ABSOLUTE") {
      out.timecode_type = TimecodeType::absolute;
    } else if (*t == "RELATIVE") {
      out.timecode_type = TimecodeType::relative;
    } else {
      return bad("x-amzn-fragment-timecode-type: ABSOLUTE or RELATIVE");
    }
  }
  if (const auto p = headers.get("x-amzn-producer-start-timestamp")) {
    out.producer_start_ms = parse_producer_start_timestamp(*p);
    if (!out.producer_start_ms)
      return bad("x-amzn-producer-start-timestamp: epoch seconds, optionally .milliseconds (e.g. 1700000000.5)");
  }
  if (out.timecode_type == TimecodeType::relative && !out.producer_start_ms)
    return bad("x-amzn-producer-start-timestamp is required with x-amzn-fragment-timecode-type RELATIVE");
  if (const auto a = headers.get("x-amzn-fragment-acknowledgment-required")) {
    if (*a == "1" || *a == "true") {
      out.ack_required = true;
    } else if (*a == "0" || *a == "false") {
      out.ack_required = false;
    } else {
      return bad("x-amzn-fragment-acknowledgment-required: 1 or 0");
    }
  }
  return std::nullopt;
}

std::string format_ack(const Ack& ack) {
  std::string out;
  out.reserve(160);
  out += R"({"EventType":")";
  out += name(ack.type);
  out += '"';
  if (ack.fragment_timecode) {
    out += R"(,"FragmentTimecode":)";
    out += std::to_string(*ack.fragment_timecode);
  }
  if (!ack.fragment_number.empty()) {
    out += R"(,"FragmentNumber":")";
    out += ack.fragment_number;  // digits only: nothing to escape
    out += '"';
  }
  if (ack.type == AckType::error) {
    out += R"(,"ErrorId":)";
    out += std::to_string(ack.error_id);
  }
  out += "}\n";
  return out;
}

}  // namespace kvsd::api
