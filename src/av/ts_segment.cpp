// ts_segment (ts_segment.hpp): the fragment's frames, timed like the fMP4 path at 90 kHz, muxed
// by libavformat's mpegts muxer into memory. The muxer's automatic h264_mp4toannexb filter turns
// the length-prefixed video into Annex-B with SPS/PPS before each IDR; its ADTS sub-muxer frames
// the AAC.

#include "av/ts_segment.hpp"

#include <array>
#include <cstring>
#include <set>

#include "av/ffmpeg_ptr.hpp"
#include "media/fmp4_track.hpp"
#include "media/hls_segments.hpp"

extern "C" {
#include <libavutil/channel_layout.h>
}

namespace kvsd::av {

// The Matroska parsers and the segment timing rule this muxer builds on.
using namespace kvsd::media;

namespace {

constexpr int kIoBufferSize = 64 * 1024;
constexpr std::uint32_t kTsTimescale = 90'000;
constexpr unsigned kSdtPid = 0x11;

MediaError error(MediaErrc code, std::string message, int av_error = 0) {
  if (av_error != 0) {
    std::array<char, AV_ERROR_MAX_STRING_SIZE> text{};
    av_strerror(av_error, text.data(), text.size());
    message += ": ";
    message += text.data();
  }
  return MediaError{code, std::move(message)};
}

int append_output(void* opaque, std::uint8_t* buf, int size) {
  auto& out = *static_cast<std::vector<std::uint8_t>*>(opaque);
  out.insert(out.end(), buf, buf + size);
  return size;
}

struct TsTrack {
  playback::HeaderTrack ht;
  std::vector<playback::TrackFrame> frames;
  playback::TimingPlan plan;
  AVStream* stream = nullptr;
};

std::optional<MediaError> set_parameters(AVStream& st, const playback::TrackConfig& c) {
  AVCodecParameters& par = *st.codecpar;
  const auto& cpd = c.info->codec_private;
  par.extradata = static_cast<std::uint8_t*>(av_mallocz(cpd.size() + AV_INPUT_BUFFER_PADDING_SIZE));
  if (par.extradata == nullptr) return error(MediaErrc::internal, "out of memory");
  std::memcpy(par.extradata, cpd.data(), cpd.size());
  par.extradata_size = static_cast<int>(cpd.size());
  if (c.kind == TrackKind::aac) {
    par.codec_type = AVMEDIA_TYPE_AUDIO;
    par.codec_id = AV_CODEC_ID_AAC;
    par.sample_rate = static_cast<int>(c.sample_rate);
    par.frame_size = 1024;
    av_channel_layout_default(&par.ch_layout, static_cast<int>(c.channels == 0 ? 2 : c.channels));
  } else {
    par.codec_type = AVMEDIA_TYPE_VIDEO;
    par.codec_id = AV_CODEC_ID_H264;
    par.width = static_cast<int>(c.info->pixel_width);
    par.height = static_cast<int>(c.info->pixel_height);
  }
  st.time_base = AVRational{1, static_cast<int>(kTsTimescale)};
  return std::nullopt;
}

}  // namespace

std::variant<std::vector<std::uint8_t>, MediaError> ts_segment(std::span<const std::uint8_t> header,
                                                               std::span<const std::uint8_t> cluster,
                                                               std::int64_t fragment_start_ms) {
  auto listed = playback_tracks(header, true);
  if (auto* err = std::get_if<MediaError>(&listed)) return std::move(*err);
  const auto& playable = std::get<std::vector<PlaybackTrack>>(listed);

  const std::int64_t base_ns = fragment_start_ms * 1'000'000;
  std::vector<TsTrack> tracks(playable.size());  // not resized later: HeaderTrack stays in place
  std::size_t total_frames = 0;
  for (std::size_t i = 0; i < playable.size(); ++i) {
    TsTrack& t = tracks[i];
    if (auto err = playback::load_track(header, playable[i].track_number, true, t.ht)) return std::move(*err);
    const std::int64_t nominal = playback::nominal_frame_ns(t.ht.config);
    if (auto err = playback::collect_frames(cluster, playable[i].track_number, t.ht.header.timecode_scale_ns, nominal,
                                            t.frames)) {
      return std::move(*err);
    }
    auto planned = playback::plan_timing(t.frames, base_ns, kTsTimescale, nominal, t.ht.config.kind == TrackKind::aac);
    if (auto* err = std::get_if<MediaError>(&planned)) return std::move(*err);
    t.plan = std::get<playback::TimingPlan>(std::move(planned));
    total_frames += t.frames.size();
  }
  if (total_frames == 0) {
    return error(MediaErrc::invalid_media_frame, "the fragment has no frame of a playable track");
  }

  std::vector<std::uint8_t> out;
  out.reserve(cluster.size() + cluster.size() / 8 + 4096);
  auto* buffer = static_cast<unsigned char*>(av_malloc(kIoBufferSize));
  if (buffer == nullptr) return error(MediaErrc::internal, "out of memory");
  ff::IoContextPtr io(avio_alloc_context(buffer, kIoBufferSize, 1, &out, nullptr, &append_output, nullptr));
  if (!io) {
    av_free(buffer);
    return error(MediaErrc::internal, "out of memory");
  }
  AVFormatContext* raw = nullptr;
  if (const int rc = avformat_alloc_output_context2(&raw, nullptr, "mpegts", nullptr); rc < 0 || raw == nullptr) {
    return error(MediaErrc::internal, "no mpegts muxer", rc);
  }
  ff::OutputContextPtr output(raw);
  output->pb = io.get();
  output->flags |= AVFMT_FLAG_CUSTOM_IO | AVFMT_FLAG_BITEXACT;
  for (auto& t : tracks) {
    t.stream = avformat_new_stream(output.get(), nullptr);
    if (t.stream == nullptr) return error(MediaErrc::internal, "out of memory");
    if (auto err = set_parameters(*t.stream, t.ht.config)) return std::move(*err);
  }
  ff::Dictionary options;
  if (tracks.size() == 1 && tracks[0].ht.config.kind == TrackKind::aac) {
    // Audio alone: the muxer cannot derive a PCR period from an AAC frame (and warns); give one.
    options.set("pcr_period", "100");
  }
  if (const int rc = avformat_write_header(output.get(), options.address()); rc < 0) {
    return error(MediaErrc::invalid_codec_private, "the mpegts muxer rejected the track parameters", rc);
  }

  ff::PacketPtr packet(av_packet_alloc());
  if (!packet) return error(MediaErrc::internal, "out of memory");
  // Frames go to the muxer in decode-time order across the tracks.
  std::vector<std::size_t> next(tracks.size(), 0);
  for (std::size_t written = 0; written < total_frames; ++written) {
    std::size_t pick = tracks.size();
    for (std::size_t k = 0; k < tracks.size(); ++k) {
      if (next[k] >= tracks[k].frames.size()) continue;
      if (pick == tracks.size() || tracks[k].plan.samples[next[k]].dts < tracks[pick].plan.samples[next[pick]].dts) {
        pick = k;
      }
    }
    TsTrack& t = tracks[pick];
    const std::size_t i = next[pick]++;
    const playback::TrackConfig& c = t.ht.config;
    playback::SamplePayload payload;
    if (auto err = playback::plan_payload(t.frames[i], c, payload)) return std::move(*err);
    if (const int rc = av_new_packet(packet.get(), static_cast<int>(payload.size)); rc < 0) {
      return error(MediaErrc::internal, "out of memory", rc);
    }
    playback::write_payload(t.frames[i], c, payload, packet->data);
    const auto& s = t.plan.samples[i];
    packet->stream_index = t.stream->index;
    packet->dts = s.dts;
    packet->pts = s.dts + s.cts;
    packet->duration = s.duration;
    if (c.kind == TrackKind::aac || t.frames[i].key) packet->flags |= AV_PKT_FLAG_KEY;
    // The muxer may have changed the stream's time base.
    av_packet_rescale_ts(packet.get(), AVRational{1, static_cast<int>(kTsTimescale)}, t.stream->time_base);
    if (const int rc = av_interleaved_write_frame(output.get(), packet.get()); rc < 0) {
      return error(MediaErrc::invalid_media_frame, "the mpegts muxer rejected a frame", rc);
    }
  }
  if (const int rc = av_write_trailer(output.get()); rc < 0) {
    return error(MediaErrc::internal, "the mpegts muxer failed to finish", rc);
  }
  avio_flush(io.get());
  // The muxer leads with an SDT (PID 0x11); HLS needs none, and a chunk should open with PAT/PMT.
  constexpr std::size_t kPacket = 188;
  std::size_t kept = 0;
  for (std::size_t at = 0; at + kPacket <= out.size(); at += kPacket) {
    const unsigned pid = ((out[at + 1] & 0x1Fu) << 8) | out[at + 2];
    if (pid == kSdtPid) continue;
    if (kept != at) std::memmove(out.data() + kept, out.data() + at, kPacket);
    kept += kPacket;
  }
  out.resize(kept);
  // Every chunk starts its continuity counters at 0. A player that joins chunks into one stream
  // (ffmpeg's HLS demuxer) would call that a loss, so the first packet of each PID that carries
  // an adaptation field says so: discontinuity_indicator.
  std::set<unsigned> seen;
  for (std::size_t at = 0; at + kPacket <= out.size(); at += kPacket) {
    const unsigned pid = ((out[at + 1] & 0x1Fu) << 8) | out[at + 2];
    if (!seen.insert(pid).second) continue;
    const bool has_adaptation = (out[at + 3] & 0x20u) != 0;
    if (has_adaptation && out[at + 4] > 0) out[at + 5] |= 0x80u;
  }
  return out;
}

}  // namespace kvsd::av
