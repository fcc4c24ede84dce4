#pragma once
// Owning C++ types for the FFmpeg objects the imaging code uses (decoder and encoder contexts,
// frames, scaler contexts). Each is a unique_ptr whose deleter calls the matching FFmpeg free
// function; none is shared between threads. Packets: media::ff::PacketPtr.
//
// This header pulls in the FFmpeg C headers; only src/imaging includes it.

#include <memory>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/frame.h>
#include <libswscale/swscale.h>
}

namespace kvsd::imaging::ff {

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

}  // namespace kvsd::imaging::ff
