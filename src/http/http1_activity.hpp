#pragma once
// What an HTTP/1.1 connection is doing (phase, pending writes, the request body's pace and
// deadline) and the watchdog rules that turn it into timeouts. Strand-local; used only by
// run_http1_session (http1_session.cpp).

#include <algorithm>
#include <boost/asio/cancellation_signal.hpp>
#include <chrono>
#include <cstddef>
#include <optional>

#include "http/body_pace.hpp"
#include "http/limits.hpp"

namespace kvsd::http::h1 {

using Clock = std::chrono::steady_clock;

// What the connection is doing, for the watchdog that enforces the timeouts. Strand-local.
struct Activity {
  enum class Phase { idle, header, exchange, linger } phase = Phase::idle;
  Clock::time_point phase_since = Clock::now();
  bool write_pending = false;
  Clock::time_point last_write_progress{};
  bool closed = false;

  // The request body: its pace (BodyPace) and deadline. A read pending past a window that fell
  // short, or past the deadline, is cancelled and fails with timed_out, so the handler can still
  // answer (PutMedia's ERROR 4000, a 408).
  std::optional<BodyPace> body_pace;  // set for each request by the body source
  std::optional<Clock::time_point> body_deadline;
  const char* body_failure = nullptr;  // set when the body failed (a read was cancelled)
  // Bound to each body read only: cancelling it leaves response writes (ACKs) running.
  boost::asio::cancellation_signal body_cancel;

  void reset_body(const Limits& l) {
    body_pace.emplace(l.body_stall_timeout, l.body_min_rate);
    body_deadline.reset();
    body_failure = nullptr;
  }
  void body_read_begins() { body_pace->wait_begins(Clock::now()); }
  // Accounts a read that brought `n` bytes; returns why the body fails, or nullptr.
  const char* body_read_ends(std::size_t n) {
    const auto now = Clock::now();
    const bool paced = body_pace->wait_ends(now, n);
    if (body_failure != nullptr) return body_failure;
    if (body_deadline && now >= *body_deadline) return body_failure = "body_deadline";
    if (!paced) return body_failure = "body_stall";
    return nullptr;
  }
  // For the watchdog: why a pending body read must be cancelled now, or nullptr (and the next
  // time to look, lowered into `next`).
  const char* check_pending_body(Clock::time_point now, Clock::time_point& next) {
    if (!body_pace || !body_pace->waiting() || body_failure != nullptr) return nullptr;
    if (body_deadline) {
      if (*body_deadline <= now) return body_failure = "body_deadline";
      next = std::min(next, *body_deadline);
    }
    if (!body_pace->check_waiting(now, next)) return body_failure = "body_stall";
    return nullptr;
  }
};

struct Watchdog {
  // Returns the reason the connection must be closed now, or nullptr, and the next time to check.
  // Pending reads and writes start without waking the watchdog, so it never sleeps longer than
  // one tick: timeouts fire within a second of their deadline.
  static constexpr std::chrono::seconds kTick{1};

  static const char* check(const Activity& a, const Limits& l, Clock::time_point now, Clock::time_point& next) {
    next = now + kTick;
    auto due = [&](Clock::time_point deadline) {
      if (deadline <= now) return true;
      next = std::min(next, deadline);
      return false;
    };
    if (a.phase == Activity::Phase::idle && due(a.phase_since + l.idle_timeout)) return "idle";
    if (a.phase == Activity::Phase::header && due(a.phase_since + l.header_timeout)) return "header";
    if (a.phase == Activity::Phase::linger && due(a.phase_since + l.linger_timeout)) return "linger";
    if (a.write_pending && due(a.last_write_progress + l.write_stall_timeout)) return "write_stall";
    return nullptr;
  }
};

}  // namespace kvsd::http::h1
