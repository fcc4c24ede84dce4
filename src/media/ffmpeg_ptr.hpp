#pragma once
// Owning C++ types for the FFmpeg C objects the media code uses. Each is a unique_ptr whose
// deleter calls the matching FFmpeg free function; none is shared between threads.
//
// Include order matters only for callers: this header pulls in the FFmpeg C headers.

#include <memory>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavformat/avio.h>
#include <libavutil/dict.h>
#include <libavutil/mem.h>
}

namespace kvsd::media::ff {

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

}  // namespace kvsd::media::ff
