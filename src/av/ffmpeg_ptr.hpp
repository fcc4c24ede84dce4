#pragma once
// Owning C++ types for the FFmpeg C objects of the av library: packets, custom I/O, demuxer and
// muxer contexts, option dictionaries, decoder and encoder contexts, frames and scaler contexts.
// Each is a unique_ptr (or a class) whose deleter calls the matching FFmpeg free function; none is
// shared between threads.
//
// This header pulls in the FFmpeg C headers; only src/av includes it (src/layers.txt).

#include <memory>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavformat/avio.h>
#include <libavutil/dict.h>
#include <libavutil/frame.h>
#include <libavutil/mem.h>
#include <libswscale/swscale.h>
}

namespace kvsd::av::ff {

struct PacketDeleter {
  void operator()(AVPacket* p) const noexcept { av_packet_free(&p); }
};
using PacketPtr = std::unique_ptr<AVPacket, PacketDeleter>;

// A custom AVIOContext: frees the (possibly reallocated) I/O buffer and the context.
struct IoContextDeleter {
  void operator()(AVIOContext* io) const noexcept {
    if (io == nullptr) return;
    av_freep(&io->buffer);
    avio_context_free(&io);
  }
};
using IoContextPtr = std::unique_ptr<AVIOContext, IoContextDeleter>;

// A demuxer context opened with avformat_open_input.
struct InputContextDeleter {
  void operator()(AVFormatContext* f) const noexcept { avformat_close_input(&f); }
};
using InputContextPtr = std::unique_ptr<AVFormatContext, InputContextDeleter>;

// A muxer context from avformat_alloc_output_context2 (its pb is owned elsewhere: custom I/O).
struct OutputContextDeleter {
  void operator()(AVFormatContext* f) const noexcept { avformat_free_context(f); }
};
using OutputContextPtr = std::unique_ptr<AVFormatContext, OutputContextDeleter>;

// An AVDictionary of options; whatever the callee did not consume stays here and is freed.
class Dictionary {
 public:
  Dictionary() = default;
  ~Dictionary() { av_dict_free(&dict_); }
  Dictionary(const Dictionary&) = delete;
  Dictionary& operator=(const Dictionary&) = delete;
  void set(const char* key, const char* value) { av_dict_set(&dict_, key, value, 0); }
  AVDictionary** address() noexcept { return &dict_; }

 private:
  AVDictionary* dict_ = nullptr;
};

struct CodecContextDeleter {
  void operator()(AVCodecContext* c) const noexcept { avcodec_free_context(&c); }
};
using CodecContextPtr = std::unique_ptr<AVCodecContext, CodecContextDeleter>;

struct FrameDeleter {
  void operator()(AVFrame* f) const noexcept { av_frame_free(&f); }
};
using FramePtr = std::unique_ptr<AVFrame, FrameDeleter>;

struct SwsContextDeleter {
  void operator()(SwsContext* s) const noexcept { sws_freeContext(s); }
};
using SwsContextPtr = std::unique_ptr<SwsContext, SwsContextDeleter>;

// Messages of a context logged through av_log are raised by this many levels so that they fall
// below every threshold (FFmpeg's default printer and the media library's recorder both drop
// them): corrupt input is reported as a typed result, never printed.
inline constexpr int kQuietLogOffset = 64;

}  // namespace kvsd::av::ff
