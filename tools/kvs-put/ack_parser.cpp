#include "ack_parser.hpp"

#include <nlohmann/json.hpp>

namespace kvsput {

std::string_view to_string(AckType t) noexcept {
  switch (t) {
    case AckType::buffering:
      return "BUFFERING";
    case AckType::received:
      return "RECEIVED";
    case AckType::persisted:
      return "PERSISTED";
    case AckType::error:
      return "ERROR";
    case AckType::idle:
      return "IDLE";
  }
  return "?";
}

std::vector<Ack> AckParser::feed(std::string_view bytes) {
  std::vector<Ack> out;
  for (char c : bytes) {
    if (!in_object_) {
      if (c != '{') continue;
      in_object_ = true;
      in_string_ = escape_ = overflow_ = false;
      depth_ = 0;
      object_.clear();
    }
    if (object_.size() < kMaxAckBytes) {
      object_.push_back(c);
    } else {
      overflow_ = true;
    }
    if (in_string_) {
      if (escape_) {
        escape_ = false;
      } else if (c == '\\') {
        escape_ = true;
      } else if (c == '"') {
        in_string_ = false;
      }
      continue;
    }
    if (c == '"') {
      in_string_ = true;
    } else if (c == '{' || c == '[') {
      ++depth_;
    } else if (c == '}' || c == ']') {
      if (--depth_ == 0) finish_object(out);
    }
  }
  return out;
}

void AckParser::finish_object(std::vector<Ack>& out) {
  in_object_ = false;
  if (overflow_) {
    ++malformed_;
    return;
  }
  const auto j = nlohmann::json::parse(object_, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) {
    ++malformed_;
    return;
  }
  Ack ack;
  const auto type = j.find("EventType");
  if (type == j.end() || !type->is_string()) {
    ++malformed_;
    return;
  }
  const std::string& t = type->get_ref<const std::string&>();
  if (t == "BUFFERING") {
    ack.type = AckType::buffering;
  } else if (t == "RECEIVED") {
    ack.type = AckType::received;
  } else if (t == "PERSISTED") {
    ack.type = AckType::persisted;
  } else if (t == "ERROR") {
    ack.type = AckType::error;
  } else if (t == "IDLE") {
    ack.type = AckType::idle;
  } else {
    ++malformed_;
    return;
  }
  if (const auto tc = j.find("FragmentTimecode"); tc != j.end() && tc->is_number_unsigned()) {
    ack.timecode = tc->get<std::uint64_t>();
  }
  if (const auto n = j.find("FragmentNumber"); n != j.end() && n->is_string())
    ack.fragment_number = n->get<std::string>();
  if (const auto e = j.find("ErrorId"); e != j.end() && e->is_number_integer()) ack.error_id = e->get<std::int64_t>();
  out.push_back(std::move(ack));
}

}  // namespace kvsput
