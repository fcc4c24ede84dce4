#include "file_source.hpp"

#include <optional>

#include "ffmpeg_ptr.hpp"
#include "nal_convert.hpp"

namespace kvsput {
namespace {

using kvsd::media::MkvTrackSpec;
using kvsd::media::MkvTrackType;

struct Selected {
  int index = -1;
  std::uint8_t track = 0;
  bool video = false;
  bool annex_b = false;
};

class FileSource final : public MediaSource {
 public:
  FileSource(FormatPtr fmt, SourceInfo info, std::vector<Selected> selected)
      : fmt_(std::move(fmt)), info_(std::move(info)), selected_(std::move(selected)) {}

  [[nodiscard]] const SourceInfo& info() const override { return info_; }

  void run(FrameStore& store) override {
    PacketPtr pkt(av_packet_alloc());
    std::string error;
    while (!store.cancelled()) {
      const int rc = av_read_frame(fmt_.get(), pkt.get());
      if (rc == AVERROR_EOF) break;
      if (rc < 0) {
        error = "reading the input: " + av_error(rc);
        break;
      }
      for (const auto& s : selected_) {
        if (s.index != pkt->stream_index) continue;
        const AVStream* st = fmt_->streams[s.index];
        std::int64_t ts = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
        if (ts == AV_NOPTS_VALUE) continue;
        Frame f;
        f.track = s.track;
        f.video = s.video;
        f.key = (pkt->flags & AV_PKT_FLAG_KEY) != 0 || !s.video;
        f.pts_ms = av_rescale_q(ts, st->time_base, AVRational{1, 1000});
        std::span<const std::uint8_t> data(pkt->data, static_cast<std::size_t>(pkt->size));
        if (s.video && s.annex_b) {
          f.data = annex_b_to_length_prefixed(data);
        } else {
          f.data.assign(data.begin(), data.end());
        }
        store.push(std::move(f));
      }
      av_packet_unref(pkt.get());
    }
    store.finish(std::move(error));
  }

 private:
  FormatPtr fmt_;
  SourceInfo info_;
  std::vector<Selected> selected_;
};

}  // namespace

std::unique_ptr<MediaSource> open_file_source(const std::string& path, std::string& error) {
  AVFormatContext* raw = nullptr;
  const std::string url = path == "-" ? "pipe:0" : path;
  if (int rc = avformat_open_input(&raw, url.c_str(), nullptr, nullptr); rc < 0) {
    error = path + ": " + av_error(rc);
    return nullptr;
  }
  FormatPtr fmt(raw);
  if (int rc = avformat_find_stream_info(fmt.get(), nullptr); rc < 0) {
    error = path + ": " + av_error(rc);
    return nullptr;
  }
  SourceInfo info;
  std::vector<Selected> selected;
  std::vector<std::string> types;

  const int v = av_find_best_stream(fmt.get(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  if (v >= 0) {
    const AVCodecParameters* par = fmt->streams[v]->codecpar;
    if (par->codec_id != AV_CODEC_ID_H264 && par->codec_id != AV_CODEC_ID_HEVC) {
      error = path + ": video codec " + avcodec_get_name(par->codec_id) + " is not H.264 or H.265";
      return nullptr;
    }
    MkvTrackSpec t;
    t.number = 1;
    t.uid = 1;
    t.pixel_width = static_cast<std::uint16_t>(par->width);
    t.pixel_height = static_cast<std::uint16_t>(par->height);
    std::span<const std::uint8_t> extra(par->extradata, static_cast<std::size_t>(par->extradata_size));
    Selected s{v, 1, true, false};
    if (par->codec_id == AV_CODEC_ID_H264) {
      t.codec_id = "V_MPEG4/ISO/AVC";
      types.emplace_back("video/h264");
      if (is_annex_b(extra)) {
        auto avcc = avcc_from_annex_b(extra);
        if (!avcc) {
          error = path + ": H.264 extradata has no SPS/PPS";
          return nullptr;
        }
        t.codec_private = std::move(*avcc);
        s.annex_b = true;
      } else {
        t.codec_private.assign(extra.begin(), extra.end());
      }
    } else {
      t.codec_id = "V_MPEGH/ISO/HEVC";
      types.emplace_back("video/h265");
      if (is_annex_b(extra)) {
        error = path + ": H.265 with Annex-B extradata is not supported (use an MP4/MKV input with hvcC)";
        return nullptr;
      }
      t.codec_private.assign(extra.begin(), extra.end());
    }
    if (t.codec_private.empty()) {
      error = path + ": video stream has no codec data (extradata)";
      return nullptr;
    }
    info.tracks.push_back(std::move(t));
    info.has_video = true;
    selected.push_back(s);
  }
  const int a = av_find_best_stream(fmt.get(), AVMEDIA_TYPE_AUDIO, -1, v >= 0 ? v : -1, nullptr, 0);
  if (a >= 0 && fmt->streams[a]->codecpar->codec_id == AV_CODEC_ID_AAC) {
    const AVCodecParameters* par = fmt->streams[a]->codecpar;
    MkvTrackSpec t;
    t.number = static_cast<std::uint8_t>(info.tracks.size() + 1);
    t.uid = info.has_video ? 2 : 1;
    t.type = MkvTrackType::audio;
    t.name = "kvs_audio_track";
    t.codec_id = "A_AAC";
    t.sampling_frequency = par->sample_rate;
    t.channels = static_cast<std::uint8_t>(par->ch_layout.nb_channels);
    t.codec_private.assign(par->extradata, par->extradata + par->extradata_size);
    types.emplace_back("audio/aac");
    selected.push_back(Selected{a, t.number, false, false});
    info.tracks.push_back(std::move(t));
  }
  if (selected.empty()) {
    error = path + ": no H.264/H.265 video or AAC audio stream";
    return nullptr;
  }
  for (std::size_t i = 0; i < types.size(); ++i) info.media_type += (i ? "," : "") + types[i];
  return std::make_unique<FileSource>(std::move(fmt), std::move(info), std::move(selected));
}

}  // namespace kvsput
