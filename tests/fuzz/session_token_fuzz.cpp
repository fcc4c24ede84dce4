// libFuzzer target for HLS/DASH playback session tokens: SessionSigner::sign and ::verify
// (src/api/playback_session.*) with one fixed key.
//
// Input: a mode byte, then
//   mode 0 (token): the rest is a token as a client sends it;
//   mode 1 (session): a session built from the bytes (protocol, mode, kind, flags, stream id,
//     optional start/end, max results, created/expires, then the session id), then a tamper
//     position (2 bytes) and xor byte;
//   mode 2 (keyed payload): the rest is a payload MACed with the key, as only kvsd can make one
//     (reaches the payload decoder behind the signature check).
// Oracle:
//   token: verify never crashes; it accepts a token only if it is exactly sign() of the session
//     it returns (a token the fuzzer did not get from sign() cannot be accepted), and only for
//     the token's protocol and before it expires; a rejection is errc::session_token_rejected.
//   session: sign() is deterministic; verify(sign(s)) == s before expiry, rejected at and after
//     expiry, for the other protocol and under another key; every one-byte change to the token
//     is rejected.
//   keyed payload: verify never crashes; what it accepts re-signs to a token that verifies to the
//     same session.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "api/playback_session.hpp"
#include "auth/crypto.hpp"
#include "fuzz_support.hpp"
#include "kvs/base64.hpp"

namespace {

using kvsd::api::PlaybackProtocol;
using kvsd::api::PlaybackSession;
using kvsd::api::SessionSigner;
using kvsd::fuzz::check;

// The key the seed corpus's valid tokens are signed with (make_session_token_corpus.py).
constexpr std::string_view kKey = "kvsd-fuzz-session-key-0123456789";  // 32 bytes
constexpr std::int64_t kNowMs = 1714564800000;                         // 2024-05-01T12:00:00Z

const SessionSigner& signer() {
  static const SessionSigner s = SessionSigner::with_key(std::string(kKey));
  return s;
}

bool same(const PlaybackSession& a, const PlaybackSession& b) {
  return a.protocol == b.protocol && a.id == b.id && a.stream_id == b.stream_id && a.mode == b.mode &&
         a.kind == b.kind && a.start_ms == b.start_ms && a.end_ms == b.end_ms && a.mpeg_ts == b.mpeg_ts &&
         a.discontinuity == b.discontinuity && a.display_timestamp == b.display_timestamp &&
         a.display_fragment_number == b.display_fragment_number && a.max_results == b.max_results &&
         a.created_ms == b.created_ms && a.expires_ms == b.expires_ms;
}

PlaybackProtocol other(PlaybackProtocol p) {
  return p == PlaybackProtocol::hls ? PlaybackProtocol::dash : PlaybackProtocol::hls;
}

void check_rejected(const kvs::Result<PlaybackSession>& r, const char* what) {
  check(!r.has_value(), what);
  check(r.error().code == kvs::errc::session_token_rejected, "a refusal is session_token_rejected");
}

void token_mode(std::string_view token) {
  static const bool trace = std::getenv("KVSD_FUZZ_TRACE") != nullptr;  // prints each verdict
  for (const auto protocol : {PlaybackProtocol::hls, PlaybackProtocol::dash}) {
    for (const std::int64_t now : {std::int64_t{0}, kNowMs}) {
      const auto r = signer().verify(token, protocol, now);
      if (trace) {
        std::fprintf(stderr, "%s at %lld: %s\n", protocol == PlaybackProtocol::hls ? "hls" : "dash",
                     static_cast<long long>(now), r.has_value() ? "accepted" : r.error().message.c_str());
      }
      if (!r.has_value()) {
        check(r.error().code == kvs::errc::session_token_rejected, "a refusal is session_token_rejected");
        continue;
      }
      check(signer().sign(r.value()) == token, "only a token sign() made is accepted");
      check(r.value().protocol == protocol, "a token is accepted only for its protocol");
      check(now < r.value().expires_ms, "a token is accepted only before it expires");
    }
  }
}

void session_mode(kvsd::fuzz::InputReader& in) {
  PlaybackSession s;
  const std::uint8_t a = in.byte();
  const std::uint8_t b = in.byte();
  s.protocol = (a & 1) ? PlaybackProtocol::dash : PlaybackProtocol::hls;
  s.mode = static_cast<kvsd::api::PlaybackMode>((a >> 1) % 3);
  s.kind = (a & 8) ? kvs::TimestampKind::producer : kvs::TimestampKind::server;
  s.discontinuity = static_cast<kvsd::api::DiscontinuityMode>((a >> 4) % 3);
  s.mpeg_ts = b & 1;
  s.display_timestamp = b & 2;
  s.display_fragment_number = b & 4;
  s.stream_id = in.u64();
  const std::int64_t start = static_cast<std::int64_t>(in.u64());
  const std::int64_t end = static_cast<std::int64_t>(in.u64());
  if (b & 8) s.start_ms = start;
  if (b & 16) s.end_ms = end;
  s.max_results = static_cast<std::uint32_t>(in.u64());
  s.created_ms = static_cast<std::int64_t>(in.u64());
  s.expires_ms = static_cast<std::int64_t>(in.u64());
  const std::uint16_t at = in.u16();
  const std::uint8_t x = in.byte();
  // The id is what new_session_id makes (hex) in kvsd; any bytes but the field separator here.
  for (const char c : in.rest()) {
    if (c != '|') s.id.push_back(c);
  }

  const std::string token = signer().sign(s);
  check(signer().sign(s) == token, "sign() is deterministic");
  check(token.size() <= 2048 || !signer().verify(token, s.protocol, kNowMs).has_value(),
        "verify() refuses tokens over its length bound");
  if (token.size() > 2048) return;
  // The last instant the token is valid (none when it expires at the earliest instant).
  const bool has_valid_instant = s.expires_ms > std::numeric_limits<std::int64_t>::min();
  const std::int64_t before = has_valid_instant ? s.expires_ms - 1 : s.expires_ms;
  if (has_valid_instant) {
    const auto r = signer().verify(token, s.protocol, before);
    check(r.has_value() && same(r.value(), s), "a valid token verifies to its session before it expires");
  }
  check_rejected(signer().verify(token, s.protocol, s.expires_ms), "a token is refused once it expires");
  check_rejected(signer().verify(token, other(s.protocol), before), "a token is refused for the other protocol");
  static const SessionSigner other_key = SessionSigner::with_key(std::string(32, 'k'));
  check_rejected(other_key.verify(token, s.protocol, before), "a token is refused under another key");

  std::string tampered = token;
  tampered[at % tampered.size()] = static_cast<char>(tampered[at % tampered.size()] ^ (x == 0 ? 1 : x));
  check_rejected(signer().verify(tampered, s.protocol, before), "a tampered token is refused");
}

void keyed_payload_mode(std::string_view payload) {
  const auto mac = kvsd::auth::hmac_sha256(
      std::span<const unsigned char>(reinterpret_cast<const unsigned char*>(kKey.data()), kKey.size()), payload);
  const std::string token =
      kvs::base64_encode(payload, kvs::Base64::url) + "." +
      kvs::base64_encode(std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size()), kvs::Base64::url);
  for (const auto protocol : {PlaybackProtocol::hls, PlaybackProtocol::dash}) {
    const auto r = signer().verify(token, protocol, kNowMs);
    if (!r.has_value()) {
      check(r.error().code == kvs::errc::session_token_rejected, "a refusal is session_token_rejected");
      continue;
    }
    // Re-encoding may lengthen a lenient spelling ("-1" as max_results is 4294967295).
    const std::string resigned = signer().sign(r.value());
    if (resigned.size() > 2048) continue;
    const auto again = signer().verify(resigned, protocol, kNowMs);
    check(again.has_value() && same(again.value(), r.value()), "an accepted session re-signs to the same session");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  kvsd::fuzz::InputReader in({data, size});
  switch (in.byte() % 3) {
    case 0:
      token_mode(in.rest());
      break;
    case 1:
      session_mode(in);
      break;
    default:
      keyed_payload_mode(in.rest());
      break;
  }
  return 0;
}
