#pragma once
// Owning pointers for the FFmpeg objects kvs-put uses.

#include <memory>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/frame.h>
}

namespace kvsput {

struct AvFormatClose {
  void operator()(AVFormatContext* c) const noexcept { avformat_close_input(&c); }
};
struct AvCodecFree {
  void operator()(AVCodecContext* c) const noexcept { avcodec_free_context(&c); }
};
struct AvFrameFree {
  void operator()(AVFrame* f) const noexcept { av_frame_free(&f); }
};
struct AvPacketFree {
  void operator()(AVPacket* p) const noexcept { av_packet_free(&p); }
};

using FormatPtr = std::unique_ptr<AVFormatContext, AvFormatClose>;
using CodecPtr = std::unique_ptr<AVCodecContext, AvCodecFree>;
using FramePtr = std::unique_ptr<AVFrame, AvFrameFree>;
using PacketPtr = std::unique_ptr<AVPacket, AvPacketFree>;

inline std::string av_error(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(err, buf, sizeof buf);
  return buf;
}

}  // namespace kvsput
