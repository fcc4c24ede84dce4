#include "put_media_session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <deque>
#include <fstream>
#include <limits>
#include <unordered_map>

#include "ack_parser.hpp"
#include "auth/crypto.hpp"
#include "control_plane_client.hpp"
#include "media/mkv_writer.hpp"

namespace kvsput {
namespace {

namespace http = beast::http;
using namespace asio::experimental::awaitable_operators;
using Clock = std::chrono::steady_clock;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::chrono::seconds kConnectTimeout{30};
constexpr std::chrono::milliseconds kContinueWait{1000};  // what libcurl waits for 100 Continue
constexpr std::chrono::milliseconds kFramePoll{5};

struct FragmentState {
  std::uint64_t timecode = 0;
  bool closed = false;
  Clock::time_point last_byte{};
  // When the bytes that end it for the server (END_OF_FRAGMENT, or the next cluster's start)
  // were written.
  Clock::time_point ended{};
  bool end_written = false;
  bool buffering = false, received = false, persisted = false;
};

std::string producer_start_timestamp(std::int64_t epoch_ms) {
  // seconds "." milliseconds, the milliseconds not zero-padded (as the SDK prints them)
  return std::to_string(epoch_ms / 1000) + "." + std::to_string(epoch_ms % 1000);
}

template <class Stream>
class Session {
 public:
  Session(Stream& stream, const ClientContext& ctx, const Endpoint& ep, const PutMediaConfig& config,
          const FrameStore& frames, const SourceInfo& info, Stats& stats)
      : stream_(stream),
        ctx_(ctx),
        ep_(ep),
        config_(config),
        frames_(frames),
        info_(info),
        stats_(stats),
        wake_(stream.get_executor()),
        reader_done_timer_(stream.get_executor()) {
    if (!config_.dump_path.empty()) dump_.open(config_.dump_path, std::ios::binary | std::ios::trunc);
  }

  asio::awaitable<SessionResult> run() {
    co_await (read_response() && write_request());
    SessionResult r;
    r.http_status = final_status_;
    r.fragments = frags_.size();
    for (const auto& f : frags_) {
      r.received += f.received ? 1 : 0;
      r.persisted += f.persisted ? 1 : 0;
    }
    r.errors = error_acks_;
    r.unmatched_acks = unmatched_acks_;
    r.body_bytes = body_bytes_;
    if (error_.empty() && r.fragments == 0) error_ = "no fragment was sent (empty input?)";
    if (error_.empty() && r.received < r.fragments) {
      error_ = std::to_string(r.fragments - r.received) + " of " + std::to_string(r.fragments) +
               " fragments got no RECEIVED";
    }
    if (error_.empty() && config_.wait_persisted && r.persisted < r.fragments) {
      error_ = std::to_string(r.fragments - r.persisted) + " of " + std::to_string(r.fragments) +
               " fragments got no PERSISTED";
    }
    r.ok = error_.empty();
    r.error = error_;
    co_return r;
  }

 private:
  void fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
    stop_ = true;
    wake_.cancel();
  }

  void close_socket() {
    beast::error_code ec;
    beast::get_lowest_layer(stream_).socket().close(ec);
  }

  // --- writer ------------------------------------------------------------------------------

  std::string request_head() {
    const auto now = std::chrono::system_clock::now();
    start_epoch_ms_ = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    const std::string target = ep_.base_path + "/putMedia";
    std::vector<std::pair<std::string, std::string>> h = {
        {"connection", "keep-alive"},
        {"host", ep_.host},
        {"transfer-encoding", "chunked"},
        {"user-agent", ctx_.user_agent},
        {"x-amzn-fragment-acknowledgment-required", "1"},
        {"x-amzn-fragment-timecode-type", config_.timecode_type == TimecodeType::absolute ? "ABSOLUTE" : "RELATIVE"},
        {"x-amzn-producer-start-timestamp", producer_start_timestamp(start_epoch_ms_)},
        {"x-amzn-stream-name", config_.stream_name},
    };
    sign_headers(ctx_, target, kvsd::auth::kEmptySha256Hex, h);
    auto value = [&](std::string_view name) -> std::string {
      for (const auto& [n, v] : h) {
        if (n == name) return v;
      }
      return {};
    };
    // The SDK's order (curl's Host and Accept first, then its sorted list, then Expect).
    std::string head = "POST " + target + " HTTP/1.1\r\nHost: " + ep_.host + "\r\nAccept: */*\r\n";
    if (auto a = value("Authorization"); !a.empty()) head += "Authorization: " + a + "\r\n";
    head += "connection: keep-alive\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n";
    head += "user-agent: " + ctx_.user_agent + "\r\n";
    if (auto d = value("X-Amz-Date"); !d.empty()) head += "X-Amz-Date: " + d + "\r\n";
    if (auto t = value("x-amz-security-token"); !t.empty()) head += "x-amz-security-token: " + t + "\r\n";
    for (const auto& [n, v] : h) {
      if (n.rfind("x-amzn-", 0) == 0) head += n + ": " + v + "\r\n";
    }
    head += "Expect: 100-continue\r\n\r\n";
    return head;
  }

  // Sends parts_ as one HTTP chunk (and to the dump file), then clears the batch.
  asio::awaitable<bool> flush() {
    if (parts_.empty()) co_return !stop_;
    std::size_t total = 0;
    for (const auto& b : parts_) total += b.size();
    char line[24];
    const int n = std::snprintf(line, sizeof line, "%zx\r\n", total);
    std::vector<asio::const_buffer> out;
    out.reserve(parts_.size() + 2);
    out.emplace_back(line, static_cast<std::size_t>(n));
    out.insert(out.end(), parts_.begin(), parts_.end());
    out.emplace_back("\r\n", 2);
    if (dump_) {
      for (const auto& b : parts_)
        dump_.write(static_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
    }
    auto [ec, written] = co_await asio::async_write(stream_, out, kTuple);
    parts_.clear();
    owned_.clear();
    block_headers_.clear();
    held_.clear();
    batch_bytes_ = 0;
    if (ec) {
      fail("sending the body: " + ec.message());
      co_return false;
    }
    body_bytes_ += total;
    stats_.bytes_sent += total;
    last_write_done_ = Clock::now();
    if (ending_ != kNone) {
      frags_[ending_].ended = last_write_done_;
      frags_[ending_].end_written = true;
      ending_ = kNone;
    }
    co_return !stop_;
  }

  void add_owned(kvsd::media::Bytes bytes) {
    owned_.push_back(std::move(bytes));
    parts_.emplace_back(owned_.back().data(), owned_.back().size());
    batch_bytes_ += owned_.back().size();
  }

  void add_frame(const Frame& f, std::int16_t relative) {
    block_headers_.push_back(kvsd::media::simple_block_header(f.track, relative, f.key, f.data.size()));
    parts_.emplace_back(block_headers_.back().data(), block_headers_.back().size());
    parts_.emplace_back(f.data.data(), f.data.size());
    batch_bytes_ += block_headers_.back().size() + f.data.size();
    // keep the frame alive until the batch is written
    held_.push_back(current_);
  }

  // Waits on wake_ until `deadline` (or a notification).
  asio::awaitable<void> wait_until(Clock::time_point deadline) {
    wake_.expires_at(deadline);
    auto [ec] = co_await wake_.async_wait(kTuple);
    (void)ec;
  }

  void close_fragment() {
    if (frags_.empty() || frags_.back().closed) return;
    frags_.back().closed = true;
    frags_.back().last_byte = last_write_done_;
  }

  asio::awaitable<void> write_request() {
    const std::string head = request_head();
    const auto head_buffer = asio::buffer(head);
    auto [hec, hn] = co_await asio::async_write(stream_, head_buffer, kTuple);
    if (hec) {
      fail("sending the PutMedia head: " + hec.message());
      co_return;
    }
    const auto continue_deadline = Clock::now() + kContinueWait;
    while (!got_continue_ && final_status_ == 0 && !stop_ && Clock::now() < continue_deadline) {
      co_await wait_until(continue_deadline);
    }
    if (!stop_ && (final_status_ == 0 || final_status_ == 200)) co_await write_body();
    if (!terminated_) {
      // Ends the chunked body (also after an ERROR ack: the SDK stops at once).
      static constexpr std::string_view kLast = "0\r\n\r\n";
      const auto last_buffer = asio::buffer(kLast);
      terminated_ = true;  // before the write: the reader may see the response end first
      auto [ec, n] = co_await asio::async_write(stream_, last_buffer, kTuple);
      (void)ec;
    }
    // Give the server ack_timeout to finish the response, then cut the connection.
    const auto deadline = Clock::now() + config_.ack_timeout;
    while (!response_done_ && Clock::now() < deadline) {
      reader_done_timer_.expires_at(deadline);
      auto [ec] = co_await reader_done_timer_.async_wait(kTuple);
      (void)ec;
    }
    if (!response_done_) {
      fail("the server did not finish the PutMedia response");
      close_socket();
    }
  }

  asio::awaitable<void> write_body() {
    const auto* tracks = info_.tracks.data();
    const kvsd::media::MkvSegmentSpec segment;
    add_owned(kvsd::media::write_mkv_header(segment, std::span(tracks, info_.tracks.size())));
    if (!co_await flush()) co_return;

    const bool absolute = config_.timecode_type == TimecodeType::absolute;
    const std::uint64_t base = absolute ? static_cast<std::uint64_t>(start_epoch_ms_) : 0;
    std::size_t index = 0;
    bool started = false;
    std::int64_t first_pts = 0, cluster_rel = 0;
    Clock::time_point t0{};
    std::uint64_t paced_bytes = 0;  // frame bytes sent under --max-rate
    while (!stop_) {
      const auto status = frames_.get(index, current_);
      if (status == FrameStore::Status::end) break;
      if (status == FrameStore::Status::pending) {
        if (!co_await flush()) co_return;
        co_await wait_until(Clock::now() + kFramePoll);
        continue;
      }
      ++index;
      const Frame& f = *current_;
      if (!started) {
        if (info_.has_video && !(f.video && f.key)) continue;  // start on a key frame
        started = true;
        first_pts = f.pts_ms;
        t0 = Clock::now();
      }
      const std::int64_t rel = f.pts_ms - first_pts;
      if (rel < 0) continue;  // before the stream start (e.g. audio priming)
      if (config_.max_rate_bytes_per_second > 0) {
        // Frame bytes so far at the given rate, less a burst of one chunk: a sender of that many
        // MB/s that writes whole chunks (waiting for every frame would make writes small).
        const auto ahead = paced_bytes > kMaxChunkBytes ? paced_bytes - kMaxChunkBytes : 0;
        const auto due = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                                  static_cast<double>(ahead) / config_.max_rate_bytes_per_second));
        if (Clock::now() < due) {
          if (!co_await flush()) co_return;
          while (!stop_ && Clock::now() < due) co_await wait_until(due);
          if (stop_) break;
        }
        paced_bytes += f.data.size();
      }
      if (config_.realtime) {
        const auto due = t0 + std::chrono::milliseconds(rel);
        if (Clock::now() < due) {
          if (!co_await flush()) co_return;
          while (!stop_ && Clock::now() < due) co_await wait_until(due);
          if (stop_) break;
        }
      }
      const bool cut = frags_.empty() ||
                       (info_.has_video ? (f.video && f.key) : rel - cluster_rel >= kAudioOnlyFragmentMs) ||
                       rel - cluster_rel > std::numeric_limits<std::int16_t>::max();
      if (cut) {
        if (!frags_.empty()) {
          if (!co_await flush()) co_return;  // the previous fragment's last byte is out now
          close_fragment();
          ending_ = frags_.size() - 1;  // this batch ends it
          if (config_.eofr) add_owned(kvsd::media::write_end_of_fragment_tag());
        }
        FragmentState fs;
        fs.timecode = base + static_cast<std::uint64_t>(rel);
        by_timecode_[fs.timecode] = frags_.size();
        frags_.push_back(fs);
        cluster_rel = rel;
        ++stats_.fragments_sent;
        add_owned(kvsd::media::write_cluster_start(fs.timecode));
      }
      add_frame(f, static_cast<std::int16_t>(rel - cluster_rel));
      if (config_.realtime || batch_bytes_ >= kMaxChunkBytes) {
        if (!co_await flush()) co_return;
      }
    }
    if (!co_await flush()) co_return;
    if (const auto err = frames_.error(); !err.empty()) {
      fail("input: " + err);
      co_return;
    }
    if (frags_.empty()) co_return;
    close_fragment();
    // End of upload: END_OF_FRAGMENT closes the last fragment, then wait for its acks.
    ending_ = frags_.size() - 1;
    add_owned(kvsd::media::write_end_of_fragment_tag());
    if (!co_await flush()) co_return;
    if (!config_.wait_persisted) co_return;
    const auto deadline = Clock::now() + config_.ack_timeout;
    while (!stop_ && !response_done_ && !all_persisted() && Clock::now() < deadline) co_await wait_until(deadline);
    if (!stop_ && !response_done_ && !all_persisted()) {
      fail("timed out after " + std::to_string(config_.ack_timeout.count()) + " ms waiting for PERSISTED");
    }
  }

  bool all_persisted() const {
    for (const auto& f : frags_) {
      if (!f.persisted) return false;
    }
    return true;
  }

  // --- reader ------------------------------------------------------------------------------

  void on_ack(const Ack& ack) {
    const auto now = Clock::now();
    if (ack.type == AckType::idle) return;
    if (ack.type == AckType::error) {
      ++error_acks_;
      ++stats_.errors;
      fail("ERROR ack: ErrorId " + (ack.error_id ? std::to_string(*ack.error_id) : std::string("?")) +
           " for fragment timecode " + (ack.timecode ? std::to_string(*ack.timecode) : std::string("?")));
      return;
    }
    if (!ack.timecode) return;
    const auto it = by_timecode_.find(*ack.timecode);
    if (it == by_timecode_.end()) {
      ++unmatched_acks_;
      return;
    }
    FragmentState& f = frags_[it->second];
    auto latency_ms = [&] { return std::chrono::duration<double, std::milli>(now - f.last_byte).count(); };
    switch (ack.type) {
      case AckType::buffering:
        if (!f.buffering) ++stats_.buffering;
        f.buffering = true;
        break;
      case AckType::received:
        if (!f.received) {
          ++stats_.received;
          if (f.closed) stats_.add_received_latency(latency_ms());
        }
        f.received = true;
        break;
      case AckType::persisted:
        if (!f.persisted) {
          ++stats_.persisted;
          if (f.closed) stats_.add_persisted_latency(latency_ms());
          if (f.end_written)
            stats_.add_persisted_after_end_latency(std::chrono::duration<double, std::milli>(now - f.ended).count());
        }
        f.persisted = true;
        break;
      default:
        break;
    }
    wake_.cancel();
  }

  void feed(std::string_view bytes) {
    for (const auto& ack : parser_.feed(bytes)) on_ack(ack);
  }

  asio::awaitable<void> read_response() {
    beast::flat_buffer buf;
    // Chunked ACK bytes go to the ACK parser, not into the body (the parser keeps a reference).
    auto on_chunk = [this](std::uint64_t, std::string_view body, beast::error_code&) -> std::size_t {
      feed(body);
      return body.size();
    };
    for (;;) {
      http::response_parser<http::string_body> parser;
      parser.body_limit(std::numeric_limits<std::uint64_t>::max());
      auto [hec, hn] = co_await http::async_read_header(stream_, buf, parser, kTuple);
      if (hec) {
        if (!stop_) fail("reading the PutMedia response: " + hec.message());
        break;
      }
      const int status = static_cast<int>(parser.get().result_int());
      if (status == 100) {
        got_continue_ = true;
        wake_.cancel();
        continue;
      }
      final_status_ = status;
      wake_.cancel();
      if (status != 200) {
        parser.body_limit(kMaxResponseBytes);
        auto [ec, n] = co_await http::async_read(stream_, buf, parser, kTuple);
        (void)ec;
        fail("PutMedia answered HTTP " + std::to_string(status) + ": " + parser.get().body());
        break;
      }
      parser.on_chunk_body(on_chunk);
      std::size_t fed = 0;  // bytes of a non-chunked body already parsed
      while (!parser.is_done()) {
        auto [ec, n] = co_await http::async_read_some(stream_, buf, parser, kTuple);
        const std::string& body = parser.get().body();
        if (body.size() > fed) {
          feed(std::string_view(body).substr(fed));
          fed = body.size();
        }
        if (ec) {
          if (!stop_) fail("PutMedia response ended early: " + ec.message());
          break;
        }
      }
      break;
    }
    response_done_ = true;
    wake_.cancel();
    reader_done_timer_.cancel();
    if (!terminated_) {
      // The writer may be blocked on a connection the server is done with.
      fail("the server ended the PutMedia response before the body was complete");
      close_socket();
    }
  }

  Stream& stream_;
  const ClientContext& ctx_;
  const Endpoint& ep_;
  const PutMediaConfig& config_;
  const FrameStore& frames_;
  const SourceInfo& info_;
  Stats& stats_;
  asio::steady_timer wake_;
  asio::steady_timer reader_done_timer_;
  std::ofstream dump_;
  AckParser parser_;

  std::int64_t start_epoch_ms_ = 0;
  std::vector<FragmentState> frags_;
  std::unordered_map<std::uint64_t, std::size_t> by_timecode_;
  std::shared_ptr<const Frame> current_;
  // The batch being assembled: buffers point into owned_, block_headers_ and held_ frames.
  std::vector<asio::const_buffer> parts_;
  std::deque<kvsd::media::Bytes> owned_;
  std::deque<std::array<std::uint8_t, kvsd::media::kSimpleBlockHeaderSize>> block_headers_;
  std::vector<std::shared_ptr<const Frame>> held_;
  std::size_t batch_bytes_ = 0;
  Clock::time_point last_write_done_{};
  static constexpr std::size_t kNone = std::numeric_limits<std::size_t>::max();
  std::size_t ending_ = kNone;  // the fragment the next written batch ends

  bool got_continue_ = false;
  int final_status_ = 0;
  bool response_done_ = false;
  bool terminated_ = false;  // the final zero chunk is written or being written
  bool stop_ = false;
  std::string error_;
  std::size_t error_acks_ = 0;
  std::size_t unmatched_acks_ = 0;
  std::uint64_t body_bytes_ = 0;
};

}  // namespace

asio::awaitable<SessionResult> run_put_media(const ClientContext& ctx, const Endpoint& ep, const PutMediaConfig& config,
                                             const FrameStore& frames, const SourceInfo& info, Stats& stats) {
  SessionResult failed;
  std::string error;
  if (ep.tls) {
    auto stream = co_await connect_tls(ep, *ctx.tls, kConnectTimeout, error);
    if (!stream) {
      failed.error = error;
      co_return failed;
    }
    Session<TlsStream> session(*stream, ctx, ep, config, frames, info, stats);
    SessionResult r = co_await session.run();
    beast::get_lowest_layer(*stream).expires_after(std::chrono::seconds(2));
    auto [ec] = co_await stream->async_shutdown(kTuple);
    (void)ec;
    co_return r;
  }
  auto stream = co_await connect_tcp(ep, kConnectTimeout, error);
  if (!stream) {
    failed.error = error;
    co_return failed;
  }
  Session<TcpStream> session(*stream, ctx, ep, config, frames, info, stats);
  SessionResult r = co_await session.run();
  beast::error_code ec;
  stream->socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  co_return r;
}

}  // namespace kvsput
