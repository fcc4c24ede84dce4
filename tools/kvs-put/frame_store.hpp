#pragma once
// Frames shared by every producer of one kvs-put run: a source thread (file demuxer or pattern
// encoder) appends, producers on I/O threads read by index. Frames are immutable once pushed and
// kept for the whole run, so N producers send the same bytes without copying them ("encode once").
//
// Threading: push()/finish() from the one source thread; info(), get() from any thread.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "media/mkv_writer.hpp"

namespace kvsput {

struct Frame {
  std::uint8_t track = 1;  // MKV TrackNumber
  bool video = true;
  bool key = false;
  std::int64_t pts_ms = 0;         // source timestamp in ms (any origin)
  std::vector<std::uint8_t> data;  // block payload as muxed (length-prefixed NALs, raw AAC)
};

struct SourceInfo {
  std::vector<kvsd::media::MkvTrackSpec> tracks;
  std::string media_type;  // CreateStream MediaType, e.g. "video/h264,audio/aac"
  bool has_video = false;
};

// The interface of a frame producer: info() is known once opened; run() blocks, pushing frames
// into the store until the input ends, then calls store.finish() (with an error text on failure).
class MediaSource {
 public:
  virtual ~MediaSource() = default;
  [[nodiscard]] virtual const SourceInfo& info() const = 0;
  virtual void run(class FrameStore& store) = 0;
};

class FrameStore {
 public:
  enum class Status { frame, pending, end };

  void push(Frame frame);
  void finish(std::string error = {});

  // Frame `index` if pushed (Status::frame), else pending while the source runs, else end.
  Status get(std::size_t index, std::shared_ptr<const Frame>& out) const;
  [[nodiscard]] std::string error() const;
  [[nodiscard]] std::size_t size() const;
  // Blocks until finish() (the source has read its whole input, or failed).
  void wait_finished() const;

  // Asks the source to stop early (every producer is done); sources poll cancelled().
  void cancel() noexcept { cancelled_ = true; }
  [[nodiscard]] bool cancelled() const noexcept { return cancelled_; }

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable finished_;
  std::vector<std::shared_ptr<const Frame>> frames_;
  bool done_ = false;
  std::string error_;
  std::atomic<bool> cancelled_{false};
};

}  // namespace kvsput
