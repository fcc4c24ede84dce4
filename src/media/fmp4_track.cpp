#include "media/fmp4_track.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>

#include "media/cluster_blocks.hpp"
#include "media/ebml_reader.hpp"
#include "media/matroska_ids.hpp"
#include "media/nal_framing.hpp"

namespace kvsd::media::playback {
namespace {

constexpr std::int64_t kNsPerSecond = 1'000'000'000;
constexpr std::uint32_t kAacFrameSamples = 1024;

MediaError error(MediaErrc code, std::string message) { return MediaError{code, std::move(message)}; }

bool is_avc(std::string_view id) { return id == "V_MPEG4/ISO/AVC" || id == "V_MPEG/ISO/AVC"; }
bool is_hevc(std::string_view id) { return id == "V_MPEGH/ISO/HEVC" || id == "V_MPEG/ISO/HEVC"; }

// ---- AudioSpecificConfig ------------------------------------------------------------------------

class BitReader {
 public:
  explicit BitReader(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}
  // nullopt past the end.
  std::optional<std::uint32_t> bits(unsigned n) {
    std::uint32_t v = 0;
    for (unsigned i = 0; i < n; ++i) {
      if (pos_ >= bytes_.size() * 8) return std::nullopt;
      const unsigned bit = (bytes_[pos_ / 8] >> (7 - pos_ % 8)) & 1u;
      v = (v << 1) | bit;
      ++pos_;
    }
    return v;
  }

 private:
  std::span<const std::uint8_t> bytes_;
  std::size_t pos_ = 0;
};

struct AudioConfig {
  std::uint32_t object_type = 0;
  std::uint32_t sample_rate = 0;
  std::uint32_t channel_config = 0;
};

std::optional<AudioConfig> parse_audio_specific_config(std::span<const std::uint8_t> asc) {
  static constexpr std::array<std::uint32_t, 13> kRates{96000, 88200, 64000, 48000, 44100, 32000, 24000,
                                                        22050, 16000, 12000, 11025, 8000,  7350};
  BitReader r(asc);
  AudioConfig c;
  auto aot = r.bits(5);
  if (!aot) return std::nullopt;
  c.object_type = *aot;
  if (c.object_type == 31) {
    const auto ext = r.bits(6);
    if (!ext) return std::nullopt;
    c.object_type = 32 + *ext;
  }
  if (c.object_type == 0) return std::nullopt;
  const auto index = r.bits(4);
  if (!index) return std::nullopt;
  if (*index == 15) {
    const auto rate = r.bits(24);
    if (!rate) return std::nullopt;
    c.sample_rate = *rate;
  } else if (*index < kRates.size()) {
    c.sample_rate = kRates[*index];
  }
  if (c.sample_rate == 0) return std::nullopt;
  const auto channels = r.bits(4);
  if (!channels) return std::nullopt;
  c.channel_config = *channels;
  return c;
}

std::uint32_t channels_of(std::uint32_t channel_config) {
  if (channel_config >= 1 && channel_config <= 6) return channel_config;
  if (channel_config == 7) return 8;
  return 0;
}

std::string hex_upper(std::uint64_t v) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  do {
    out.insert(out.begin(), kDigits[v & 15]);
    v >>= 4;
  } while (v != 0);
  return out;
}

// ---- Blocks -------------------------------------------------------------------------------------

struct BlockContext {
  std::uint64_t track_number;
  std::uint64_t scale_ns;
  std::int64_t lace_ns;
  std::vector<TrackFrame>& out;
};

// Splits a laced payload (after the lace-count byte) into frame sizes. false when malformed.
bool lace_sizes(std::span<const std::uint8_t> data, unsigned lacing, std::size_t count, std::size_t& header,
                std::vector<std::size_t>& sizes) {
  sizes.clear();
  std::size_t at = 0;
  std::size_t total = 0;
  if (lacing == 1) {  // Xiph
    for (std::size_t i = 0; i + 1 < count; ++i) {
      std::size_t size = 0;
      std::uint8_t b = 0;
      do {
        if (at >= data.size()) return false;
        b = data[at++];
        size += b;
      } while (b == 255);
      sizes.push_back(size);
      total += size;
    }
  } else if (lacing == 3) {  // EBML
    std::uint64_t first = 0;
    std::size_t length = 0;
    if (ebml::decode_vint(data, first, length) != ebml::ReadStatus::complete) return false;
    at = length;
    std::int64_t previous = static_cast<std::int64_t>(first);
    if (previous < 0) return false;
    sizes.push_back(static_cast<std::size_t>(previous));
    total = sizes.back();
    for (std::size_t i = 1; i + 1 < count; ++i) {
      std::uint64_t raw = 0;
      if (ebml::decode_vint(data.subspan(at), raw, length) != ebml::ReadStatus::complete) return false;
      at += length;
      const std::int64_t bias = (std::int64_t{1} << (7 * length - 1)) - 1;
      const std::int64_t size = previous + static_cast<std::int64_t>(raw) - bias;
      if (size < 0 || static_cast<std::uint64_t>(size) > data.size()) return false;
      sizes.push_back(static_cast<std::size_t>(size));
      total += sizes.back();
      previous = size;
    }
  } else {  // fixed size
    if (data.size() % count != 0) return false;
    sizes.assign(count - 1, data.size() / count);
    total = (count - 1) * (data.size() / count);
  }
  if (at > data.size() || total > data.size() - at) return false;
  sizes.push_back(data.size() - at - total);
  header = at;
  return true;
}

// The frames of one block of the track (laced blocks split). Its duration: BlockDuration in
// scale units, or -1.
std::optional<MediaError> read_block(const ClusterBlock& block, const BlockContext& ctx) {
  if (block.head.track_number != ctx.track_number) return std::nullopt;
  const bool key = block.key();
  const std::int64_t time_ns = std::int64_t{block.head.relative_timecode} * static_cast<std::int64_t>(ctx.scale_ns);
  const std::int64_t duration_ns = block.duration >= 0 ? block.duration * static_cast<std::int64_t>(ctx.scale_ns) : -1;
  const auto data = block.data;
  if (!block.laced()) {
    if (data.empty()) return error(MediaErrc::invalid_media_frame, "empty frame");
    ctx.out.push_back(TrackFrame{data, time_ns, duration_ns, key});
    return std::nullopt;
  }
  const auto count = static_cast<std::size_t>(block.head.frames);
  std::vector<std::size_t> sizes;
  std::size_t header = 0;
  if (!lace_sizes(data, (block.head.flags >> 1) & 3u, count, header, sizes)) {
    return error(MediaErrc::invalid_media_frame, "malformed block lacing");
  }
  const auto n = static_cast<std::int64_t>(count);
  const std::int64_t step = duration_ns >= 0 ? duration_ns / n : ctx.lace_ns;
  const std::int64_t each = duration_ns >= 0 ? duration_ns / n : -1;
  std::size_t at = header;
  for (std::size_t i = 0; i < count; ++i) {
    if (sizes[i] == 0) return error(MediaErrc::invalid_media_frame, "empty laced frame");
    ctx.out.push_back(TrackFrame{data.subspan(at, sizes[i]), time_ns + static_cast<std::int64_t>(i) * step, each, key});
    at += sizes[i];
  }
  return std::nullopt;
}

}  // namespace

// ---- Codec configuration ----------------------------------------------------------------------

std::string avc_codec_string(std::span<const std::uint8_t> avcc) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out = "avc1.";
  for (std::size_t i = 1; i <= 3 && i < avcc.size(); ++i) {
    out.push_back(kDigits[avcc[i] >> 4]);
    out.push_back(kDigits[avcc[i] & 15]);
  }
  return out;
}

namespace {

// The 12 bytes general_profile_space..general_level_idc, as laid out in hvcC bytes 1..12, from the
// record's first SPS (its profile_tier_level follows the 2-byte NAL header and one byte of ids),
// emulation prevention bytes removed. Empty when the record holds no usable SPS.
std::vector<std::uint8_t> sps_profile_tier_level(std::span<const std::uint8_t> hvcc) {
  constexpr std::uint8_t kSps = 33;
  std::size_t at = 23;
  const std::size_t arrays = hvcc.size() > 22 ? hvcc[22] : 0;
  for (std::size_t a = 0; a < arrays && at + 3 <= hvcc.size(); ++a) {
    const std::uint8_t type = hvcc[at] & 0x3Fu;
    const std::size_t count = (std::size_t{hvcc[at + 1]} << 8) | hvcc[at + 2];
    at += 3;
    for (std::size_t n = 0; n < count && at + 2 <= hvcc.size(); ++n) {
      const std::size_t length = (std::size_t{hvcc[at]} << 8) | hvcc[at + 1];
      at += 2;
      if (length > hvcc.size() - at) return {};
      if (type == kSps) {
        std::vector<std::uint8_t> rbsp;
        std::size_t zeros = 0;
        for (std::size_t i = at; i < at + length && rbsp.size() < 15; ++i) {
          if (zeros >= 2 && hvcc[i] == 3) {
            zeros = 0;
            continue;
          }
          zeros = hvcc[i] == 0 ? zeros + 1 : 0;
          rbsp.push_back(hvcc[i]);
        }
        if (rbsp.size() < 15) return {};
        return {rbsp.begin() + 3, rbsp.begin() + 15};
      }
      at += length;
    }
  }
  return {};
}

}  // namespace

std::string hevc_codec_string(std::span<const std::uint8_t> hvcc) {
  if (hvcc.size() < 13) return "hvc1";
  // ISO/IEC 14496-15 Annex E: profile space + profile, compatibility flags (bit-reversed),
  // tier + level, constraint bytes without trailing zero bytes. The fields come from the SPS
  // (what decoders read; some producers write a wrong hvcC header), else from the hvcC.
  std::vector<std::uint8_t> ptl = sps_profile_tier_level(hvcc);
  if (ptl.empty()) ptl.assign(hvcc.begin() + 1, hvcc.begin() + 13);
  const unsigned space = ptl[0] >> 6;
  const bool high_tier = ((ptl[0] >> 5) & 1u) != 0;
  const unsigned profile = ptl[0] & 0x1Fu;
  std::uint32_t compat = (std::uint32_t{ptl[1]} << 24) | (std::uint32_t{ptl[2]} << 16) | (std::uint32_t{ptl[3]} << 8) |
                         std::uint32_t{ptl[4]};
  std::uint32_t reversed = 0;
  for (int i = 0; i < 32; ++i) {
    reversed = (reversed << 1) | (compat & 1u);
    compat >>= 1;
  }
  std::string out = "hvc1.";
  if (space > 0) out.push_back(static_cast<char>('A' + space - 1));
  out += std::to_string(profile) + "." + hex_upper(reversed) + "." + (high_tier ? "H" : "L") + std::to_string(ptl[11]);
  std::size_t last = 10;
  while (last >= 5 && ptl[last] == 0) --last;
  for (std::size_t i = 5; i <= last && last >= 5; ++i) out += "." + hex_upper(ptl[i]);
  return out;
}

std::variant<TrackConfig, MediaError> resolve_track(const TrackInfo& track, bool mpeg_ts) {
  TrackConfig c;
  c.info = &track;
  const std::string number = std::to_string(track.number);
  if (is_avc(track.codec_id)) {
    c.kind = TrackKind::h264;
  } else if (is_hevc(track.codec_id)) {
    c.kind = TrackKind::h265;
    if (mpeg_ts) return error(MediaErrc::unsupported_media, "H.265 (track " + number + ") cannot be played as MPEG-TS");
  } else if (track.codec_id == "A_AAC") {
    c.kind = TrackKind::aac;
  } else {
    return error(MediaErrc::unsupported_media,
                 "track " + number + " has codec '" + track.codec_id + "'; HLS/DASH play H.264, H.265 and AAC");
  }
  if (track.codec_private.empty()) {
    return error(MediaErrc::missing_codec_private, "track " + number + " has no CodecPrivate");
  }
  const auto& cpd = track.codec_private;
  switch (c.kind) {
    case TrackKind::h264: {
      const auto size = avcc_nal_length_size(cpd);
      if (!size) return error(MediaErrc::invalid_codec_private, "track " + number + ": CodecPrivate is not an avcC");
      c.nal_length_size = *size;
      c.codec_string = avc_codec_string(cpd);
      break;
    }
    case TrackKind::h265: {
      const auto size = hvcc_nal_length_size(cpd);
      if (!size) return error(MediaErrc::invalid_codec_private, "track " + number + ": CodecPrivate is not an hvcC");
      c.nal_length_size = *size;
      c.codec_string = hevc_codec_string(cpd);
      break;
    }
    case TrackKind::aac: {
      const auto asc = parse_audio_specific_config(cpd);
      if (!asc) {
        return error(MediaErrc::invalid_codec_private,
                     "track " + number + ": CodecPrivate is not an AAC AudioSpecificConfig");
      }
      c.sample_rate = asc->sample_rate;
      c.channels = channels_of(asc->channel_config);
      if (c.channels == 0) c.channels = static_cast<std::uint32_t>(track.channels);
      c.codec_string = "mp4a.40." + std::to_string(asc->object_type);
      break;
    }
  }
  return c;
}

std::optional<MediaError> load_track(std::span<const std::uint8_t> header, std::uint64_t track_number, bool mpeg_ts,
                                     HeaderTrack& out) {
  auto info = read_stored_header(header);
  if (!info) return error(MediaErrc::unsupported_media, "the stream header is not EBML + Segment + Info + Tracks");
  out.header = std::move(*info);
  const auto it = std::find_if(out.header.tracks.begin(), out.header.tracks.end(),
                               [&](const TrackInfo& t) { return t.number == track_number; });
  if (it == out.header.tracks.end()) {
    return error(MediaErrc::unsupported_media, "the stream has no track " + std::to_string(track_number));
  }
  auto resolved = resolve_track(*it, mpeg_ts);
  if (auto* err = std::get_if<MediaError>(&resolved)) return std::move(*err);
  out.config = std::get<TrackConfig>(std::move(resolved));
  return std::nullopt;
}

std::int64_t nominal_frame_ns(const TrackConfig& config) {
  if (config.info != nullptr && config.info->default_duration_ns > 0) {
    return static_cast<std::int64_t>(config.info->default_duration_ns);
  }
  if (config.kind == TrackKind::aac && config.sample_rate > 0) {
    return std::int64_t{kAacFrameSamples} * kNsPerSecond / config.sample_rate;
  }
  return 0;
}

// ---- Frames -------------------------------------------------------------------------------------

std::optional<MediaError> collect_frames(std::span<const std::uint8_t> cluster, std::uint64_t track_number,
                                         std::uint64_t scale_ns, std::int64_t lace_ns, std::vector<TrackFrame>& out) {
  const BlockContext ctx{track_number, scale_ns, lace_ns, out};
  ClusterBlocks blocks(cluster);
  ClusterBlock block;
  for (auto n = blocks.next(block); n != ClusterBlocks::Next::end; n = blocks.next(block)) {
    if (n == ClusterBlocks::Next::invalid) return error(MediaErrc::invalid_media_frame, blocks.error());
    if (auto err = read_block(block, ctx)) return err;
  }
  return std::nullopt;
}

// ---- Timing -------------------------------------------------------------------------------------

std::int64_t ns_to_ticks(std::int64_t ns, std::uint32_t timescale) {
  std::int64_t q = ns / kNsPerSecond;
  std::int64_t r = ns % kNsPerSecond;
  if (r < 0) {
    r += kNsPerSecond;
    --q;
  }
  const std::int64_t ts = timescale;
  return q * ts + (r * ts + kNsPerSecond / 2) / kNsPerSecond;
}

std::int64_t last_frame_end_ns(std::span<const TrackFrame> frames, std::int64_t nominal_ns) {
  if (frames.empty()) return 0;
  std::size_t last = 0;
  std::int64_t first = frames[0].time_ns;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    if (frames[i].time_ns >= frames[last].time_ns) last = i;
    first = std::min(first, frames[i].time_ns);
  }
  const TrackFrame& f = frames[last];
  std::int64_t duration = 0;
  if (f.duration_ns > 0) {
    duration = f.duration_ns;
  } else if (nominal_ns > 0) {
    duration = nominal_ns;
  } else if (frames.size() >= 2) {
    duration = (f.time_ns - first) / static_cast<std::int64_t>(frames.size() - 1);
  }
  return f.time_ns + duration;
}

std::variant<TimingPlan, MediaError> plan_timing(std::span<const TrackFrame> frames, std::int64_t base_ns,
                                                 std::uint32_t timescale, std::int64_t nominal_ns, bool in_order) {
  TimingPlan plan;
  const std::size_t n = frames.size();
  if (n == 0) return plan;
  plan.samples.resize(n);
  std::vector<std::int64_t> sorted(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::int64_t pts = ns_to_ticks(base_ns + frames[i].time_ns, timescale);
    plan.samples[i].cts = pts;  // pts for now
    sorted[i] = pts;
    if (in_order && i > 0 && pts <= sorted[i - 1]) {
      return error(MediaErrc::invalid_media_frame, "audio frame times do not increase");
    }
  }
  if (!in_order) std::sort(sorted.begin(), sorted.end());
  for (std::size_t i = 1; i < n; ++i) {
    if (sorted[i] == sorted[i - 1]) return error(MediaErrc::invalid_media_frame, "two frames share a timestamp");
  }
  std::int64_t delay = 0;
  for (std::size_t i = 0; i < n; ++i) delay = std::max(delay, sorted[i] - plan.samples[i].cts);
  plan.first_pts = sorted.front();
  plan.end = ns_to_ticks(base_ns + last_frame_end_ns(frames, nominal_ns), timescale);
  for (std::size_t i = 0; i < n; ++i) {
    SampleTime& s = plan.samples[i];
    s.dts = sorted[i] - delay;
    s.cts -= s.dts;
    plan.has_cts |= s.cts != 0;
    const std::int64_t duration = (i + 1 < n ? sorted[i + 1] : plan.end) - sorted[i];
    if (duration < 0 || duration > std::numeric_limits<std::uint32_t>::max()) {
      return error(MediaErrc::invalid_media_frame, "a frame duration does not fit the sample table");
    }
    s.duration = static_cast<std::uint32_t>(duration);
  }
  return plan;
}

// ---- Frame payloads -----------------------------------------------------------------------------

std::size_t adts_header_length(std::span<const std::uint8_t> frame) {
  if (frame.size() < 7 || frame[0] != 0xFF || (frame[1] & 0xF6u) != 0xF0u) return 0;
  const std::size_t header = (frame[1] & 1u) != 0 ? 7 : 9;
  const std::size_t length = (std::size_t{frame[3] & 3u} << 11) | (std::size_t{frame[4]} << 3) | (frame[5] >> 5);
  if (length != frame.size() || length <= header || (frame[6] & 3u) != 0) return 0;
  return header;
}

namespace {

// Calls fn(begin, end) for each non-empty NAL unit of an Annex-B frame; returns the count.
template <typename Fn>
std::size_t for_each_annex_b_nal(std::span<const std::uint8_t> frame, Fn fn) {
  const std::uint8_t* data = frame.data();
  const std::size_t size = frame.size();
  std::size_t count = 0;
  std::size_t begin = SIZE_MAX;  // start of the current NAL unit
  std::size_t i = 2;
  auto emit = [&](std::size_t end) {
    while (end > begin && data[end - 1] == 0) --end;
    if (end > begin) {
      fn(begin, end);
      ++count;
    }
  };
  while (i < size) {
    const void* hit = std::memchr(data + i, 1, size - i);
    if (hit == nullptr) break;
    const auto at = static_cast<std::size_t>(static_cast<const std::uint8_t*>(hit) - data);
    if (data[at - 1] == 0 && data[at - 2] == 0) {
      if (begin != SIZE_MAX) emit(at - 2);
      begin = at + 1;
      i = at + 3;
    } else {
      i = at + 1;
    }
  }
  if (begin != SIZE_MAX) emit(size);
  return count;
}

}  // namespace

std::optional<std::size_t> annex_b_length_prefixed_size(std::span<const std::uint8_t> frame, std::size_t length_size) {
  const std::uint64_t max_length = length_size >= 4 ? 0xFFFFFFFFull : (1ull << (8 * length_size)) - 1;
  std::size_t total = 0;
  bool fits = true;
  const std::size_t count = for_each_annex_b_nal(frame, [&](std::size_t begin, std::size_t end) {
    fits &= end - begin <= max_length;
    total += length_size + (end - begin);
  });
  if (count == 0 || !fits) return std::nullopt;
  return total;
}

void write_annex_b_as_length_prefixed(std::span<const std::uint8_t> frame, std::size_t length_size, std::uint8_t* out) {
  for_each_annex_b_nal(frame, [&](std::size_t begin, std::size_t end) {
    const std::size_t length = end - begin;
    for (std::size_t i = length_size; i-- > 0;) *out++ = static_cast<std::uint8_t>(length >> (8 * i));
    std::memcpy(out, frame.data() + begin, length);
    out += length;
  });
}

std::optional<MediaError> plan_payload(const TrackFrame& frame, const TrackConfig& config, SamplePayload& out) {
  out = SamplePayload{};
  if (config.kind == TrackKind::aac) {
    out.skip = adts_header_length(frame.payload);
    out.size = frame.payload.size() - out.skip;
    return std::nullopt;
  }
  if (is_length_prefixed(frame.payload, config.nal_length_size)) {
    out.size = frame.payload.size();
    return std::nullopt;
  }
  if (!starts_with_start_code(frame.payload)) {
    return error(MediaErrc::invalid_media_frame, "video frame is neither length-prefixed (" +
                                                     std::to_string(config.nal_length_size) + " bytes) nor Annex-B");
  }
  const auto size = annex_b_length_prefixed_size(frame.payload, config.nal_length_size);
  if (!size) return error(MediaErrc::invalid_media_frame, "Annex-B video frame has no usable NAL unit");
  out.size = *size;
  out.annex_b = true;
  return std::nullopt;
}

void write_payload(const TrackFrame& frame, const TrackConfig& config, const SamplePayload& plan, std::uint8_t* out) {
  if (plan.annex_b) {
    write_annex_b_as_length_prefixed(frame.payload, config.nal_length_size, out);
  } else {
    std::memcpy(out, frame.payload.data() + plan.skip, plan.size);
  }
}

}  // namespace kvsd::media::playback
