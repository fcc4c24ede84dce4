#include "av/mp4_clip.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <limits>
#include <mutex>
#include <optional>

#include "av/ffmpeg_ptr.hpp"
#include "media/mkv_document.hpp"
#include "media/mp4_layout.hpp"
#include "media/nal_framing.hpp"

namespace kvsd::av {

// The Matroska parsers and the segment timing rule this muxer builds on.
using namespace kvsd::media;

namespace {

constexpr std::string_view kCodecAvc = "V_MPEG4/ISO/AVC";
constexpr std::string_view kCodecHevc = "V_MPEGH/ISO/HEVC";
constexpr std::string_view kCodecAac = "A_AAC";
constexpr std::uint64_t kTrackTypeVideo = 1;
constexpr std::uint64_t kTrackTypeAudio = 2;
constexpr int kIoBufferSize = 64 * 1024;
constexpr int kVideoOut = 0;
constexpr int kAudioOut = 1;

// ---- FFmpeg logging: recorded per thread, never printed --------------------------------------

thread_local std::array<char, 512> t_last_ffmpeg_error{};

void record_ffmpeg_log(void* /*avcl*/, int level, const char* format, va_list args) {
  if (level > AV_LOG_ERROR) return;
  std::vsnprintf(t_last_ffmpeg_error.data(), t_last_ffmpeg_error.size(), format, args);
}

void redirect_ffmpeg_logging() {
  static std::once_flag once;
  std::call_once(once, [] {
    av_log_set_level(AV_LOG_ERROR);
    av_log_set_callback(&record_ffmpeg_log);
  });
}

std::string last_ffmpeg_error() {
  std::string line(t_last_ffmpeg_error.data());
  while (!line.empty() && (line.back() == '\n' || line.back() == ' ')) line.pop_back();
  return line;
}

MediaError fail(MediaErrc code, std::string message, int av_error = 0) {
  if (av_error != 0) {
    std::array<char, AV_ERROR_MAX_STRING_SIZE> text{};
    av_strerror(av_error, text.data(), text.size());
    message += ": ";
    message += text.data();
  }
  if (const auto detail = last_ffmpeg_error(); !detail.empty()) message += " (ffmpeg: " + detail + ")";
  return MediaError{code, std::move(message)};
}

// ---- Tracks -----------------------------------------------------------------------------------

struct TrackPlan {
  const TrackInfo* video = nullptr;
  const TrackInfo* audio = nullptr;
  std::size_t track_count = 0;  // TrackEntries in the header
  std::size_t video_entry = 0;  // positions of the two tracks among them
  std::size_t audio_entry = 0;
  bool hevc = false;
  std::size_t nal_length_size = 4;
};

std::variant<TrackPlan, MediaError> plan_tracks(const StoredHeaderInfo& info) {
  TrackPlan plan;
  plan.track_count = info.tracks.size();
  for (std::size_t entry = 0; entry < info.tracks.size(); ++entry) {
    const TrackInfo& track = info.tracks[entry];
    const bool video_codec = track.codec_id == kCodecAvc || track.codec_id == kCodecHevc;
    if (track.type == kTrackTypeVideo && video_codec) {
      if (plan.video != nullptr) return fail(MediaErrc::unsupported_media, "more than one video track");
      plan.video = &track;
      plan.video_entry = entry;
      plan.hevc = track.codec_id == kCodecHevc;
    } else if (track.type == kTrackTypeAudio && track.codec_id == kCodecAac) {
      if (plan.audio != nullptr) return fail(MediaErrc::unsupported_media, "more than one audio track");
      plan.audio = &track;
      plan.audio_entry = entry;
    } else {
      return fail(MediaErrc::unsupported_media, "track " + std::to_string(track.number) + " has codec '" +
                                                    track.codec_id + "' (type " + std::to_string(track.type) +
                                                    "); GetClip supports H.264/H.265 video and AAC audio");
    }
  }
  if (plan.video == nullptr) return fail(MediaErrc::unsupported_media, "no H.264 or H.265 video track");
  if (plan.video->codec_private.empty()) {
    return fail(MediaErrc::missing_codec_private,
                "video track " + std::to_string(plan.video->number) + " has no CodecPrivate");
  }
  if (plan.audio != nullptr && plan.audio->codec_private.empty()) {
    return fail(MediaErrc::missing_codec_private,
                "audio track " + std::to_string(plan.audio->number) + " has no CodecPrivate");
  }
  const auto length_size =
      plan.hevc ? hvcc_nal_length_size(plan.video->codec_private) : avcc_nal_length_size(plan.video->codec_private);
  if (!length_size) {
    return fail(MediaErrc::invalid_codec_private,
                std::string("video CodecPrivate is not a valid ") + (plan.hevc ? "hvcC" : "avcC") + " record");
  }
  plan.nal_length_size = *length_size;
  return plan;
}

// ---- Input: the header + clusters as one Matroska document ------------------------------------

// Reads the concatenation of parts (part 0 the header, part i+1 cluster i) without copying it.
class DocumentReader {
 public:
  DocumentReader(std::span<const std::uint8_t> header, std::span<const std::span<const std::uint8_t>> clusters) {
    parts_.push_back(header);
    parts_.insert(parts_.end(), clusters.begin(), clusters.end());
    std::uint64_t at = 0;
    for (const auto& part : parts_) {
      starts_.push_back(at);
      at += part.size();
    }
  }

  static int read(void* opaque, std::uint8_t* buf, int size) {
    auto& self = *static_cast<DocumentReader*>(opaque);
    int done = 0;
    while (done < size && self.part_ < self.parts_.size()) {
      const auto& part = self.parts_[self.part_];
      const std::size_t n = std::min(part.size() - self.offset_, static_cast<std::size_t>(size - done));
      std::memcpy(buf + done, part.data() + self.offset_, n);
      done += static_cast<int>(n);
      self.offset_ += n;
      if (self.offset_ == part.size()) {
        ++self.part_;
        self.offset_ = 0;
      }
    }
    return done == 0 ? AVERROR_EOF : done;
  }

  // Which cluster (0-based) the document offset `pos` lies in; nullopt inside the header.
  [[nodiscard]] std::optional<std::size_t> cluster_at(std::int64_t pos) const {
    if (pos < 0) return std::nullopt;
    const auto it = std::upper_bound(starts_.begin(), starts_.end(), static_cast<std::uint64_t>(pos));
    const auto part = static_cast<std::size_t>(it - starts_.begin()) - 1;
    if (part == 0) return std::nullopt;
    return part - 1;
  }

 private:
  std::vector<std::span<const std::uint8_t>> parts_;
  std::vector<std::uint64_t> starts_;
  std::size_t part_ = 0;
  std::size_t offset_ = 0;
};

// ---- Output: a seekable in-memory file with a size cap ----------------------------------------

class MemorySink {
 public:
  explicit MemorySink(std::uint64_t cap) : cap_(cap) {}

  static int write(void* opaque, std::uint8_t* buf, int size) {
    auto& self = *static_cast<MemorySink*>(opaque);
    const std::size_t end = self.pos_ + static_cast<std::size_t>(size);
    if (end > self.cap_) {
      self.overflowed_ = true;
      return AVERROR(EFBIG);
    }
    if (end > self.bytes_.size()) self.bytes_.resize(end);
    std::memcpy(self.bytes_.data() + self.pos_, buf, static_cast<std::size_t>(size));
    self.pos_ = end;
    return size;
  }

  static std::int64_t seek(void* opaque, std::int64_t offset, int whence) {
    auto& self = *static_cast<MemorySink*>(opaque);
    if ((whence & AVSEEK_SIZE) != 0) return static_cast<std::int64_t>(self.bytes_.size());
    std::int64_t base = 0;
    switch (whence & ~AVSEEK_FORCE) {
      case SEEK_SET:
        break;
      case SEEK_CUR:
        base = static_cast<std::int64_t>(self.pos_);
        break;
      case SEEK_END:
        base = static_cast<std::int64_t>(self.bytes_.size());
        break;
      default:
        return AVERROR(EINVAL);
    }
    const std::int64_t target = base + offset;
    if (target < 0 || static_cast<std::uint64_t>(target) > self.cap_) return AVERROR(EINVAL);
    self.pos_ = static_cast<std::size_t>(target);
    return target;
  }

  [[nodiscard]] bool overflowed() const noexcept { return overflowed_; }
  std::vector<std::uint8_t> take() { return std::move(bytes_); }

 private:
  std::vector<std::uint8_t> bytes_;
  std::size_t pos_ = 0;
  std::uint64_t cap_;
  bool overflowed_ = false;
};

ff::IoContextPtr make_io(void* opaque, bool write, int (*read_cb)(void*, std::uint8_t*, int),
                         int (*write_cb)(void*, std::uint8_t*, int),
                         std::int64_t (*seek_cb)(void*, std::int64_t, int)) {
  auto* buffer = static_cast<unsigned char*>(av_malloc(kIoBufferSize));
  if (buffer == nullptr) return nullptr;
  AVIOContext* io = avio_alloc_context(buffer, kIoBufferSize, write ? 1 : 0, opaque, read_cb, write_cb, seek_cb);
  if (io == nullptr) {
    av_free(buffer);
    return nullptr;
  }
  return ff::IoContextPtr(io);
}

// ---- Demuxing -----------------------------------------------------------------------------------

struct Sample {
  ff::PacketPtr packet;  // timestamps in the input stream's time base, shifted so video starts at 0
  int out_stream = kVideoOut;
  std::size_t cluster = 0;
};

struct Demuxed {
  std::vector<Sample> samples;        // in document order
  std::size_t complete_clusters = 0;  // clusters whose every sample is in `samples`
  std::array<AVRational, 2> time_base{};
  std::array<const AVCodecParameters*, 2> params{};
};

std::optional<MediaError> check_video_frame(AVPacket& packet, std::size_t nal_length_size) {
  const std::span<const std::uint8_t> frame(packet.data, static_cast<std::size_t>(packet.size));
  if (is_length_prefixed(frame, nal_length_size)) return std::nullopt;
  if (!starts_with_start_code(frame)) {
    return fail(MediaErrc::invalid_media_frame,
                "video frame is neither length-prefixed (" + std::to_string(nal_length_size) + " bytes) nor Annex-B");
  }
  auto converted = annex_b_to_length_prefixed(frame, nal_length_size);
  if (!converted) return fail(MediaErrc::invalid_media_frame, "Annex-B video frame has no usable NAL unit");
  AVBufferRef* buffer = av_buffer_alloc(converted->size() + AV_INPUT_BUFFER_PADDING_SIZE);
  if (buffer == nullptr) return fail(MediaErrc::internal, "out of memory");
  std::memcpy(buffer->data, converted->data(), converted->size());
  std::memset(buffer->data + converted->size(), 0, AV_INPUT_BUFFER_PADDING_SIZE);
  av_buffer_unref(&packet.buf);
  packet.buf = buffer;
  packet.data = buffer->data;
  packet.size = static_cast<int>(converted->size());
  return std::nullopt;
}

// Compares the frames the demuxer returned for one cluster with the blocks the cluster holds.
std::optional<MediaError> check_frame_counts(std::span<const std::uint8_t> cluster, const TrackPlan& plan,
                                             const std::array<std::uint64_t, 2>& demuxed) {
  const auto counts = count_cluster_frames(cluster);
  if (!counts) return fail(MediaErrc::invalid_media_frame, "malformed Cluster");
  std::array<std::uint64_t, 2> expected{};
  for (const auto& [track, frames] : *counts) {
    if (track == plan.video->number) {
      expected[kVideoOut] = frames;
    } else if (plan.audio != nullptr && track == plan.audio->number) {
      expected[kAudioOut] = frames;
    } else {
      return fail(MediaErrc::invalid_media_frame,
                  "a block refers to track " + std::to_string(track) + ", which the stream header does not declare");
    }
  }
  for (std::size_t slot = 0; slot < 2; ++slot) {
    if (expected[slot] != demuxed[slot]) {
      return fail(MediaErrc::invalid_media_frame,
                  std::string(slot == kVideoOut ? "video" : "audio") + ": " + std::to_string(expected[slot]) +
                      " blocks but " + std::to_string(demuxed[slot]) + " readable frames (empty or malformed blocks)");
    }
  }
  return std::nullopt;
}

// Matroska blocks carry presentation times only, so video decode times are synthesized: the
// i-th frame in decode order gets the i-th smallest presentation time, less the largest reorder
// delay so that no frame is decoded after it is shown. Without B-frames dts == pts.
void synthesize_video_dts(std::vector<Sample>& samples) {
  std::vector<std::int64_t> sorted;
  for (const Sample& s : samples) {
    if (s.out_stream == kVideoOut) sorted.push_back(s.packet->pts);
  }
  std::sort(sorted.begin(), sorted.end());
  std::int64_t delay = 0;
  std::size_t i = 0;
  for (const Sample& s : samples) {
    if (s.out_stream == kVideoOut) delay = std::max(delay, sorted[i++] - s.packet->pts);
  }
  i = 0;
  for (Sample& s : samples) {
    if (s.out_stream == kVideoOut) s.packet->dts = sorted[i++] - delay;
  }
}

// Reads every frame of the document, stopping after the first frame of a cluster that cannot fit
// under `byte_cap` (payload bytes alone exceed it; the first cluster is always read whole).
std::variant<Demuxed, MediaError> demux(AVFormatContext& input, const DocumentReader& reader, const TrackPlan& plan,
                                        std::span<const std::span<const std::uint8_t>> clusters,
                                        std::uint64_t byte_cap) {
  const std::size_t cluster_count = clusters.size();
  Demuxed out;
  // The Matroska demuxer exposes one stream per supported TrackEntry, in header order (its
  // AVStream::id is not the track number); every entry is supported here.
  if (input.nb_streams != plan.track_count) {
    return fail(MediaErrc::internal, "the demuxer exposed " + std::to_string(input.nb_streams) + " streams for " +
                                         std::to_string(plan.track_count) + " tracks");
  }
  std::array<int, 2> in_index{static_cast<int>(plan.video_entry),
                              plan.audio != nullptr ? static_cast<int>(plan.audio_entry) : -1};
  const AVCodecID video_codec = plan.hevc ? AV_CODEC_ID_HEVC : AV_CODEC_ID_H264;
  for (std::size_t slot = 0; slot < 2; ++slot) {
    if (in_index[slot] < 0) continue;
    const AVStream* st = input.streams[in_index[slot]];
    if (st->codecpar->codec_id != (slot == kVideoOut ? video_codec : AV_CODEC_ID_AAC)) {
      return fail(MediaErrc::internal,
                  "the demuxer's stream " + std::to_string(in_index[slot]) + " has an unexpected codec");
    }
    out.time_base[slot] = st->time_base;
    out.params[slot] = st->codecpar;
  }

  std::uint64_t payload_bytes = 0;
  std::vector<std::array<std::uint64_t, 2>> demuxed_frames(cluster_count, std::array<std::uint64_t, 2>{});
  out.complete_clusters = cluster_count;  // lowered to the first cluster that cannot fit
  for (;;) {
    ff::PacketPtr packet(av_packet_alloc());
    if (!packet) return fail(MediaErrc::internal, "out of memory");
    const int rc = av_read_frame(&input, packet.get());
    if (rc == AVERROR_EOF) break;
    if (rc < 0) return fail(MediaErrc::invalid_media_frame, "the Matroska demuxer rejected the clusters", rc);
    const int slot = packet->stream_index == in_index[kVideoOut]   ? kVideoOut
                     : packet->stream_index == in_index[kAudioOut] ? kAudioOut
                                                                   : -1;
    if (slot < 0) continue;
    const auto cluster = reader.cluster_at(packet->pos);
    if (!cluster) return fail(MediaErrc::internal, "a frame has no position inside a cluster");
    if (packet->dts == AV_NOPTS_VALUE) packet->dts = packet->pts;
    if (packet->pts == AV_NOPTS_VALUE) packet->pts = packet->dts;

    payload_bytes += static_cast<std::uint64_t>(std::max(packet->size, 0));
    if (*cluster > 0 && *cluster < out.complete_clusters && payload_bytes > byte_cap) out.complete_clusters = *cluster;
    if (*cluster >= out.complete_clusters) {
      // Past the cut: kept only for its timestamp, which ends the last included sample of its
      // track. The next video frame is enough; later frames are not read.
      const bool video = slot == kVideoOut;
      if (packet->pts != AV_NOPTS_VALUE) out.samples.push_back(Sample{std::move(packet), slot, *cluster});
      if (video) break;
      continue;
    }
    ++demuxed_frames[*cluster][static_cast<std::size_t>(slot)];
    const auto where = [&] { return " (cluster " + std::to_string(*cluster) + ")"; };
    if (packet->size <= 0) return fail(MediaErrc::invalid_media_frame, "empty frame" + where());
    if (packet->pts == AV_NOPTS_VALUE) {
      return fail(MediaErrc::invalid_media_frame, "frame without a timestamp" + where());
    }
    if (slot == kVideoOut) {
      if (auto err = check_video_frame(*packet, plan.nal_length_size)) {
        err->message += where();
        return *err;
      }
    }
    out.samples.push_back(Sample{std::move(packet), slot, *cluster});
  }
  // The demuxer skips blocks it cannot use (empty, unknown track, after a resync) without an
  // error; a frame missing from the clip is an invalid frame.
  for (std::size_t c = 0; c < out.complete_clusters; ++c) {
    if (auto err = check_frame_counts(clusters[c], plan, demuxed_frames[c])) {
      err->message += " (cluster " + std::to_string(c) + ")";
      return *err;
    }
  }
  synthesize_video_dts(out.samples);
  std::optional<std::int64_t> video_start;
  for (const Sample& s : out.samples) {
    if (s.out_stream == kVideoOut && s.cluster < out.complete_clusters) {
      video_start = std::min(video_start.value_or(s.packet->pts), s.packet->pts);
    }
  }
  if (!video_start) return fail(MediaErrc::invalid_media_frame, "the clip has no video frame");

  // Audio before the first video frame is dropped; everything else moves so that video starts at 0.
  const std::int64_t start = *video_start;
  const AVRational video_tb = out.time_base[kVideoOut];
  std::erase_if(out.samples, [&](const Sample& s) {
    return s.out_stream == kAudioOut && av_compare_ts(s.packet->pts, out.time_base[kAudioOut], start, video_tb) < 0;
  });
  for (Sample& s : out.samples) {
    const AVRational tb = out.time_base[static_cast<std::size_t>(s.out_stream)];
    const std::int64_t shift = av_rescale_q(start, video_tb, tb);
    s.packet->pts -= shift;
    s.packet->dts -= shift;
  }
  return out;
}

// Sets each sample's duration to the distance to the next sample of its track (the mp4 muxer
// derives stts from those distances too). The last sample of a track keeps the demuxer's duration
// (BlockDuration/DefaultDuration) or, without one, gets the previous interval.
void fill_durations(std::vector<Sample>& samples) {
  std::array<Sample*, 2> previous{};
  std::array<std::int64_t, 2> last_interval{};
  for (Sample& s : samples) {
    const auto slot = static_cast<std::size_t>(s.out_stream);
    if (Sample* p = previous[slot]; p != nullptr) {
      last_interval[slot] = s.packet->dts - p->packet->dts;
      if (last_interval[slot] > 0) p->packet->duration = last_interval[slot];
    }
    previous[slot] = &s;
  }
  for (std::size_t slot = 0; slot < 2; ++slot) {
    if (Sample* p = previous[slot]; p != nullptr && p->packet->duration <= 0 && last_interval[slot] > 0) {
      p->packet->duration = last_interval[slot];
    }
  }
}

// ---- Muxing ---------------------------------------------------------------------------------------

struct TooLarge {};

// Muxes the samples of clusters [0, cluster_limit) into an MP4 no larger than `cap` bytes.
std::variant<std::vector<std::uint8_t>, TooLarge, MediaError> mux(const Demuxed& demuxed, const TrackPlan& plan,
                                                                  std::size_t cluster_limit, std::uint64_t cap) {
  MemorySink sink(cap);
  ff::IoContextPtr io = make_io(&sink, true, nullptr, &MemorySink::write, &MemorySink::seek);
  if (!io) return fail(MediaErrc::internal, "out of memory");

  AVFormatContext* raw = nullptr;
  if (const int rc = avformat_alloc_output_context2(&raw, nullptr, "mp4", nullptr); rc < 0 || raw == nullptr) {
    return fail(MediaErrc::internal, "no mp4 muxer", rc);
  }
  ff::OutputContextPtr output(raw);
  output->pb = io.get();
  output->flags |= AVFMT_FLAG_CUSTOM_IO | AVFMT_FLAG_BITEXACT;

  const std::size_t streams = plan.audio != nullptr ? 2 : 1;
  std::array<AVStream*, 2> out_streams{};
  for (std::size_t slot = 0; slot < streams; ++slot) {
    AVStream* st = avformat_new_stream(output.get(), nullptr);
    if (st == nullptr) return fail(MediaErrc::internal, "out of memory");
    if (const int rc = avcodec_parameters_copy(st->codecpar, demuxed.params[slot]); rc < 0) {
      return fail(MediaErrc::internal, "cannot copy codec parameters", rc);
    }
    st->codecpar->codec_tag = slot == kVideoOut && plan.hevc ? MKTAG('h', 'v', 'c', '1') : 0;
    st->time_base = demuxed.time_base[slot];
    out_streams[slot] = st;
  }

  ff::Dictionary options;
  const AVRational video_tb = demuxed.time_base[kVideoOut];
  if (video_tb.num == 1 && video_tb.den > 0) {
    // Keep the Matroska timecode rate (1000/s for 1 ms) instead of the muxer's default multiple.
    options.set("video_track_timescale", std::to_string(video_tb.den).c_str());
  }
  if (const int rc = avformat_write_header(output.get(), options.address()); rc < 0) {
    if (sink.overflowed()) return TooLarge{};
    return fail(MediaErrc::invalid_codec_private, "the mp4 muxer rejected the track parameters", rc);
  }

  ff::PacketPtr packet(av_packet_alloc());
  if (!packet) return fail(MediaErrc::internal, "out of memory");
  for (const Sample& s : demuxed.samples) {
    if (s.cluster >= cluster_limit) continue;
    if (const int rc = av_packet_ref(packet.get(), s.packet.get()); rc < 0) {
      return fail(MediaErrc::internal, "out of memory", rc);
    }
    const auto slot = static_cast<std::size_t>(s.out_stream);
    packet->stream_index = out_streams[slot]->index;
    packet->pos = -1;
    av_packet_rescale_ts(packet.get(), demuxed.time_base[slot], out_streams[slot]->time_base);
    if (const int rc = av_interleaved_write_frame(output.get(), packet.get()); rc < 0) {
      if (sink.overflowed()) return TooLarge{};
      return fail(MediaErrc::invalid_media_frame,
                  "the mp4 muxer rejected a frame of cluster " + std::to_string(s.cluster), rc);
    }
  }
  if (const int rc = av_write_trailer(output.get()); rc < 0) {
    if (sink.overflowed()) return TooLarge{};
    return fail(MediaErrc::internal, "the mp4 muxer failed to finish", rc);
  }
  avio_flush(io.get());
  if (sink.overflowed()) return TooLarge{};
  return sink.take();
}

}  // namespace

std::variant<ClipResult, MediaError> build_mp4_clip(std::span<const std::uint8_t> header,
                                                    std::span<const std::span<const std::uint8_t>> clusters,
                                                    const ClipLimits& limits) {
  redirect_ffmpeg_logging();
  t_last_ffmpeg_error[0] = '\0';
  if (clusters.empty()) return fail(MediaErrc::internal, "no fragments");

  const auto info = read_stored_header(header);
  if (!info) return fail(MediaErrc::unsupported_media, "the stream header is not EBML + Segment + Info + Tracks");
  auto planned = plan_tracks(*info);
  if (auto* err = std::get_if<MediaError>(&planned)) return std::move(*err);
  const TrackPlan& plan = std::get<TrackPlan>(planned);

  const std::vector<std::uint8_t> document_header = unknown_size_segment_header(header);
  DocumentReader reader(document_header, clusters);
  ff::IoContextPtr input_io = make_io(&reader, false, &DocumentReader::read, nullptr, nullptr);
  if (!input_io) return fail(MediaErrc::internal, "out of memory");
  input_io->seekable = 0;

  AVFormatContext* raw = avformat_alloc_context();
  if (raw == nullptr) return fail(MediaErrc::internal, "out of memory");
  raw->pb = input_io.get();
  raw->flags |= AVFMT_FLAG_CUSTOM_IO;
  const AVInputFormat* matroska = av_find_input_format("matroska");
  if (matroska == nullptr) {
    avformat_free_context(raw);
    return fail(MediaErrc::internal, "no matroska demuxer");
  }
  if (const int rc = avformat_open_input(&raw, nullptr, matroska, nullptr); rc < 0) {
    // avformat_open_input freed the context.
    return fail(MediaErrc::unsupported_media, "the Matroska demuxer rejected the stream header", rc);
  }
  ff::InputContextPtr input(raw);

  auto demuxed_or = demux(*input, reader, plan, clusters, limits.max_output_bytes);
  if (auto* err = std::get_if<MediaError>(&demuxed_or)) return std::move(*err);
  Demuxed& demuxed = std::get<Demuxed>(demuxed_or);
  fill_durations(demuxed.samples);

  // Payload bytes alone fit for complete_clusters; the sample tables may still push it over, so
  // drop whole clusters from the end until the MP4 fits (the first one always goes in).
  for (std::size_t used = std::max<std::size_t>(demuxed.complete_clusters, 1); used >= 1; --used) {
    const std::uint64_t cap = used == 1 ? std::numeric_limits<std::uint64_t>::max() : limits.max_output_bytes;
    auto muxed = mux(demuxed, plan, used, cap);
    if (auto* err = std::get_if<MediaError>(&muxed)) return std::move(*err);
    if (std::holds_alternative<TooLarge>(muxed)) continue;
    auto& bytes = std::get<std::vector<std::uint8_t>>(muxed);
    auto moved = move_moov_before_mdat(bytes);
    if (!moved) return fail(MediaErrc::internal, "cannot move moov before mdat");
    ClipResult result;
    result.mp4 = std::move(*moved);
    result.fragments_used = used;
    result.truncated = used < clusters.size();
    return result;
  }
  return fail(MediaErrc::internal, "unreachable: the first fragment is muxed without a cap");
}

}  // namespace kvsd::av
