#include "api/list_fragments_token.hpp"

#include <exception>
#include <vector>

#include "kvs/base64.hpp"
#include "kvs/decimal.hpp"

namespace kvsd::api::detail {

std::string encode_list_fragments_token(const kvs::FragmentQuery& q, const std::string& cursor) {
  std::string raw = "1|";
  raw += q.kind == kvs::TimestampKind::producer ? 'p' : 's';
  raw += '|' + std::to_string(q.from_ms) + '|' + std::to_string(q.to_ms) + '|' + cursor;
  return kvs::base64_encode(raw);
}

bool decode_list_fragments_token(std::string_view token, kvs::FragmentQuery& q) {
  const auto raw = kvs::base64_decode(token);
  if (!raw) return false;
  std::vector<std::string> parts;
  std::size_t pos = 0;
  for (int i = 0; i < 4; ++i) {
    const auto bar = raw->find('|', pos);
    if (bar == std::string::npos) return false;
    parts.push_back(raw->substr(pos, bar - pos));
    pos = bar + 1;
  }
  parts.push_back(raw->substr(pos));
  if (parts[0] != "1" || (parts[1] != "p" && parts[1] != "s") || parts[4].empty()) return false;
  const auto from = kvs::parse_decimal<std::int64_t>(parts[2]);
  const auto to = kvs::parse_decimal<std::int64_t>(parts[3]);
  if (!from || !to) return false;
  q.from_ms = *from;
  q.to_ms = *to;
  q.kind = parts[1] == "p" ? kvs::TimestampKind::producer : kvs::TimestampKind::server;
  q.cursor = parts[4];
  return true;
}

}  // namespace kvsd::api::detail
