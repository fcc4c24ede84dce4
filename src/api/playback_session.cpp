#include "api/playback_session.hpp"

#include <sys/stat.h>

#include <array>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "auth/crypto.hpp"
#include "kvs/base64.hpp"
#include "kvs/decimal.hpp"

namespace kvsd::api {

namespace {

constexpr std::size_t kKeyBytes = 32;
constexpr char kVersion = '1';

std::string mac(const std::string& key, std::string_view payload) {
  const auto d = auth::hmac_sha256(
      std::span<const unsigned char>(reinterpret_cast<const unsigned char*>(key.data()), key.size()), payload);
  return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

kvs::Error rejected(std::string why) { return kvs::Error{kvs::errc::session_token_rejected, std::move(why)}; }

std::string opt(const std::optional<std::int64_t>& v) { return v ? std::to_string(*v) : std::string(); }

// payload: fields separated by '|', in this order.
std::string encode(const PlaybackSession& s) {
  std::ostringstream o;
  o << kVersion << '|' << static_cast<int>(s.protocol) << '|' << s.id << '|' << s.stream_id << '|'
    << static_cast<int>(s.mode) << '|' << static_cast<int>(s.kind) << '|' << opt(s.start_ms) << '|' << opt(s.end_ms)
    << '|' << (s.mpeg_ts ? 1 : 0) << '|' << static_cast<int>(s.discontinuity) << '|' << (s.display_timestamp ? 1 : 0)
    << '|' << (s.display_fragment_number ? 1 : 0) << '|' << s.max_results << '|' << s.created_ms << '|' << s.expires_ms;
  return o.str();
}

bool decode(std::string_view payload, PlaybackSession& s) {
  std::vector<std::string> f;
  std::size_t pos = 0;
  for (;;) {
    const auto bar = payload.find('|', pos);
    f.emplace_back(payload.substr(pos, bar == std::string_view::npos ? std::string_view::npos : bar - pos));
    if (bar == std::string_view::npos) break;
    pos = bar + 1;
  }
  if (f.size() != 15 || f[0] != std::string(1, kVersion)) return false;
  const auto i64 = [](const std::string& t) { return kvs::parse_decimal<std::int64_t>(t); };
  const auto small = [](const std::string& t) { return kvs::parse_decimal<int>(t); };
  const auto protocol = small(f[1]);
  const auto stream_id = kvs::parse_decimal<std::uint64_t>(f[3]);
  const auto mode = small(f[4]);
  const auto kind = small(f[5]);
  const auto discontinuity = small(f[9]);
  const auto max_results = kvs::parse_decimal<std::uint32_t>(f[12]);
  const auto created = i64(f[13]);
  const auto expires = i64(f[14]);
  std::optional<std::int64_t> start, end;  // empty field: not set
  if (!f[6].empty() && !(start = i64(f[6]))) return false;
  if (!f[7].empty() && !(end = i64(f[7]))) return false;
  if (!protocol || !stream_id || !mode || !kind || !discontinuity || !max_results || !created || !expires) return false;
  s.protocol = static_cast<PlaybackProtocol>(*protocol);
  s.id = f[2];
  s.stream_id = *stream_id;
  s.mode = static_cast<PlaybackMode>(*mode);
  s.kind = static_cast<kvs::TimestampKind>(*kind);
  s.start_ms = start;
  s.end_ms = end;
  s.mpeg_ts = f[8] == "1";
  s.discontinuity = static_cast<DiscontinuityMode>(*discontinuity);
  s.display_timestamp = f[10] == "1";
  s.display_fragment_number = f[11] == "1";
  s.max_results = *max_results;
  s.created_ms = *created;
  s.expires_ms = *expires;
  return true;
}

}  // namespace

SessionSigner::SessionSigner(const std::string& key_path) {
  std::ifstream in(key_path, std::ios::binary);
  if (in) {
    key_.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (key_.size() != kKeyBytes)
      throw std::runtime_error("session key " + key_path + " must hold exactly 32 bytes; delete it to make a new one");
    return;
  }
  key_ = auth::random_bytes(kKeyBytes);
  const auto tmp = key_path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(key_.data(), static_cast<std::streamsize>(key_.size()));
    if (!out) throw std::runtime_error("cannot write session key " + tmp);
  }
  ::chmod(tmp.c_str(), 0600);
  if (std::rename(tmp.c_str(), key_path.c_str()) != 0) throw std::runtime_error("cannot create " + key_path);
}

SessionSigner SessionSigner::with_key(std::string key) {
  SessionSigner s;
  s.key_ = std::move(key);
  return s;
}

std::string SessionSigner::sign(const PlaybackSession& s) const {
  const auto payload = encode(s);
  return kvs::base64_encode(payload, kvs::Base64::url) + "." + kvs::base64_encode(mac(key_, payload), kvs::Base64::url);
}

kvs::Result<PlaybackSession> SessionSigner::verify(std::string_view token, PlaybackProtocol protocol,
                                                   std::int64_t now_ms) const {
  if (token.empty()) return rejected("SessionToken is required");
  if (token.size() > 2048) return rejected("SessionToken is not a session token of this server");
  const auto dot = token.find('.');
  if (dot == std::string_view::npos) return rejected("SessionToken is not a session token of this server");
  const auto payload = kvs::base64_decode(token.substr(0, dot), kvs::Base64::url);
  const auto sig = kvs::base64_decode(token.substr(dot + 1), kvs::Base64::url);
  if (!payload || !sig) return rejected("SessionToken is not a session token of this server");
  if (!auth::constant_time_equal(*sig, mac(key_, *payload)))
    return rejected("SessionToken signature does not match: the token was altered or made elsewhere");
  PlaybackSession s;
  if (!decode(*payload, s) || s.protocol != protocol)
    return rejected("SessionToken is not a session token for this kind of request");
  if (now_ms >= s.expires_ms) return rejected("Streaming session token is expired");
  return s;
}

std::string new_session_id() {
  static constexpr char kHex[] = "0123456789abcdef";
  const auto raw = auth::random_bytes(8);
  std::string out;
  for (unsigned char c : raw) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

}  // namespace kvsd::api
