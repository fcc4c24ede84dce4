#include "api/playback_session.hpp"

#include <gtest/gtest.h>

#include "support/temp_dir.hpp"

namespace kvsd::api {
namespace {

PlaybackSession sample() {
  PlaybackSession s;
  s.protocol = PlaybackProtocol::hls;
  s.id = new_session_id();
  s.stream_id = 42;
  s.mode = PlaybackMode::on_demand;
  s.kind = kvs::TimestampKind::producer;
  s.start_ms = 1'700'000'000'000;
  s.end_ms = 1'700'000'060'000;
  s.mpeg_ts = true;
  s.discontinuity = DiscontinuityMode::on_discontinuity;
  s.display_timestamp = true;
  s.max_results = 1234;
  s.created_ms = 1'700'000'100'000;
  s.expires_ms = 1'700'000'400'000;
  return s;
}

TEST(PlaybackSession, TokenRoundTripsEveryField) {
  const auto signer = SessionSigner::with_key(std::string(32, 'k'));
  const auto s = sample();
  const auto token = signer.sign(s);
  for (char c : token) {
    const bool url_safe =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    EXPECT_TRUE(url_safe) << c;
  }
  auto back = signer.verify(token, PlaybackProtocol::hls, s.created_ms + 1);
  ASSERT_TRUE(back.has_value()) << back.error().message;
  EXPECT_EQ(back->id, s.id);
  EXPECT_EQ(back->stream_id, 42u);
  EXPECT_EQ(back->mode, PlaybackMode::on_demand);
  EXPECT_EQ(back->kind, kvs::TimestampKind::producer);
  EXPECT_EQ(back->start_ms, s.start_ms);
  EXPECT_EQ(back->end_ms, s.end_ms);
  EXPECT_TRUE(back->mpeg_ts);
  EXPECT_EQ(back->discontinuity, DiscontinuityMode::on_discontinuity);
  EXPECT_TRUE(back->display_timestamp);
  EXPECT_EQ(back->max_results, 1234u);
  EXPECT_EQ(back->expires_ms, s.expires_ms);
}

TEST(PlaybackSession, ForgedExpiredOrForeignTokensAreRejected) {
  const auto signer = SessionSigner::with_key(std::string(32, 'k'));
  auto s = sample();
  const auto token = signer.sign(s);
  const auto now = s.created_ms + 1;
  // Every single-character change anywhere in the token is caught.
  for (std::size_t i = 0; i < token.size(); i += 7) {
    auto bad = token;
    bad[i] = bad[i] == 'A' ? 'B' : 'A';
    auto r = signer.verify(bad, PlaybackProtocol::hls, now);
    ASSERT_FALSE(r.has_value()) << i;
    EXPECT_EQ(r.error().code, kvs::errc::session_token_rejected);
  }
  // A payload re-signed with another key (another server) fails.
  const auto other = SessionSigner::with_key(std::string(32, 'x'));
  EXPECT_FALSE(signer.verify(other.sign(s), PlaybackProtocol::hls, now).has_value());
  // A payload edited to name another stream, with the old signature, fails.
  s.stream_id = 43;
  const auto moved = signer.sign(s);
  const auto forged = moved.substr(0, moved.find('.')) + token.substr(token.find('.'));
  EXPECT_FALSE(signer.verify(forged, PlaybackProtocol::hls, now).has_value());
  // Expired, wrong protocol, empty, garbage.
  auto expired = signer.verify(token, PlaybackProtocol::hls, sample().expires_ms);
  ASSERT_FALSE(expired.has_value());
  EXPECT_NE(expired.error().message.find("expired"), std::string::npos);
  EXPECT_FALSE(signer.verify(token, PlaybackProtocol::dash, now).has_value());
  EXPECT_FALSE(signer.verify("", PlaybackProtocol::hls, now).has_value());
  EXPECT_FALSE(signer.verify("not.a~token", PlaybackProtocol::hls, now).has_value());
}

TEST(PlaybackSession, KeyFileIsMadeOnceAndReused) {
  testing_support::TempDir dir{"kvsd-session-key"};
  const auto path = (dir.path() / "session.key").string();
  const SessionSigner first(path);
  const SessionSigner second(path);
  const auto s = sample();
  EXPECT_TRUE(second.verify(first.sign(s), PlaybackProtocol::hls, s.created_ms).has_value());
}

}  // namespace
}  // namespace kvsd::api
