// fmp4_init_segment and fmp4_media_segment (hls_segments.hpp): own box writer, no FFmpeg.

#include <algorithm>
#include <limits>

#include "media/fmp4_boxes.hpp"
#include "media/fmp4_track.hpp"
#include "media/hls_segments.hpp"

namespace kvsd::media {
namespace {

using playback::BoxWriter;
using playback::HeaderTrack;
using playback::TrackConfig;

constexpr std::uint32_t kVideoTimescale = 90'000;
constexpr std::uint32_t kMovieTimescale = 1'000;
constexpr std::uint16_t kLanguageUnd = 0x55C4;             // ISO-639-2 "und", packed
constexpr std::uint32_t kSyncSampleFlags = 0x02000000;     // depends on no other sample
constexpr std::uint32_t kNonSyncSampleFlags = 0x01010000;  // depends on others, non-sync

// tfhd default-base-is-moof; trun fields.
constexpr std::uint32_t kTfhdDefaultBaseIsMoof = 0x020000;
constexpr std::uint32_t kTrunDataOffset = 0x000001;
constexpr std::uint32_t kTrunDuration = 0x000100;
constexpr std::uint32_t kTrunSize = 0x000200;
constexpr std::uint32_t kTrunFlags = 0x000400;
constexpr std::uint32_t kTrunCompositionOffset = 0x000800;

MediaError error(MediaErrc code, std::string message) { return MediaError{code, std::move(message)}; }

std::uint32_t timescale_of(const TrackConfig& c) { return c.kind == TrackKind::aac ? c.sample_rate : kVideoTimescale; }

std::optional<MediaError> check_track_id(std::uint64_t track_number) {
  if (track_number == 0 || track_number > std::numeric_limits<std::uint32_t>::max()) {
    return error(MediaErrc::unsupported_media,
                 "track number " + std::to_string(track_number) + " does not fit an MP4 track_ID");
  }
  return std::nullopt;
}

void write_matrix(BoxWriter& w) {
  static constexpr std::uint32_t kIdentity[9] = {0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000};
  for (const auto v : kIdentity) w.u32(v);
}

std::uint16_t clamp16(std::uint64_t v) { return static_cast<std::uint16_t>(std::min<std::uint64_t>(v, 0xFFFF)); }

// ES descriptor length in the 4-byte form (as most muxers write it).
void descriptor(BoxWriter& w, std::uint8_t tag, std::uint32_t length) {
  w.u8(tag);
  w.u8(static_cast<std::uint8_t>(0x80 | ((length >> 21) & 0x7F)));
  w.u8(static_cast<std::uint8_t>(0x80 | ((length >> 14) & 0x7F)));
  w.u8(static_cast<std::uint8_t>(0x80 | ((length >> 7) & 0x7F)));
  w.u8(static_cast<std::uint8_t>(length & 0x7F));
}

void write_sample_entry(BoxWriter& w, const TrackConfig& c, std::uint32_t track_id) {
  const TrackInfo& t = *c.info;
  if (c.kind == TrackKind::aac) {
    const auto entry = w.begin("mp4a");
    w.zeros(6);
    w.u16(1);  // data_reference_index
    w.zeros(8);
    w.u16(static_cast<std::uint16_t>(c.channels == 0 ? 2 : c.channels));
    w.u16(16);  // samplesize
    w.u16(0);
    w.u16(0);
    w.u32(c.sample_rate <= 0xFFFF ? c.sample_rate << 16 : 0);
    const auto esds = w.begin_full("esds", 0, 0);
    const auto asc_size = static_cast<std::uint32_t>(t.codec_private.size());
    const std::uint32_t dcd_size = 13 + 5 + asc_size;
    const std::uint32_t es_size = 3 + 5 + dcd_size + 5 + 1;
    descriptor(w, 0x03, es_size);
    w.u16(static_cast<std::uint16_t>(track_id));  // ES_ID
    w.u8(0);                                      // no dependency, URL or OCR stream
    descriptor(w, 0x04, dcd_size);
    w.u8(0x40);  // objectTypeIndication: MPEG-4 Audio
    w.u8(0x15);  // streamType audio (5) << 2 | reserved 1
    w.u24(0);    // bufferSizeDB
    w.u32(0);    // maxBitrate
    w.u32(0);    // avgBitrate
    descriptor(w, 0x05, asc_size);
    w.bytes(t.codec_private);
    descriptor(w, 0x06, 1);
    w.u8(0x02);  // SLConfigDescriptor predefined: MP4
    w.end(esds);
    w.end(entry);
    return;
  }
  const bool hevc = c.kind == TrackKind::h265;
  const auto entry = hevc ? w.begin("hvc1") : w.begin("avc1");
  w.zeros(6);
  w.u16(1);  // data_reference_index
  w.zeros(16);
  w.u16(clamp16(t.pixel_width));
  w.u16(clamp16(t.pixel_height));
  w.u32(0x00480000);  // 72 dpi
  w.u32(0x00480000);
  w.u32(0);
  w.u16(1);     // frame_count
  w.zeros(32);  // compressorname
  w.u16(0x0018);
  w.u16(0xFFFF);
  const auto config = hevc ? w.begin("hvcC") : w.begin("avcC");
  w.bytes(t.codec_private);
  w.end(config);
  w.end(entry);
}

}  // namespace

std::variant<std::vector<std::uint8_t>, MediaError> fmp4_init_segment(std::span<const std::uint8_t> header,
                                                                      std::uint64_t track_number) {
  HeaderTrack ht;
  if (auto err = playback::load_track(header, track_number, false, ht)) return std::move(*err);
  if (auto err = check_track_id(track_number)) return std::move(*err);
  const TrackConfig& c = ht.config;
  const auto track_id = static_cast<std::uint32_t>(track_number);
  const bool audio = c.kind == TrackKind::aac;

  std::vector<std::uint8_t> out;
  out.reserve(1024 + c.info->codec_private.size());
  BoxWriter w(out);
  const auto ftyp = w.begin("ftyp");
  w.fourcc("iso6");
  w.u32(0);
  w.fourcc("iso6");
  w.fourcc("cmfc");
  w.fourcc("iso5");
  w.fourcc("dash");
  w.fourcc("mp41");
  w.end(ftyp);

  const auto moov = w.begin("moov");
  const auto mvhd = w.begin_full("mvhd", 0, 0);
  w.u32(0);  // creation_time
  w.u32(0);  // modification_time
  w.u32(kMovieTimescale);
  w.u32(0);           // duration: fragmented
  w.u32(0x00010000);  // rate 1.0
  w.u16(0x0100);      // volume 1.0
  w.zeros(10);
  write_matrix(w);
  w.zeros(24);
  w.u32(track_id == std::numeric_limits<std::uint32_t>::max() ? track_id : track_id + 1);  // next_track_ID
  w.end(mvhd);

  const auto trak = w.begin("trak");
  const auto tkhd = w.begin_full("tkhd", 0, 0x3);  // enabled, in movie
  w.u32(0);
  w.u32(0);
  w.u32(track_id);
  w.u32(0);
  w.u32(0);  // duration
  w.zeros(8);
  w.u16(0);  // layer
  w.u16(0);  // alternate_group
  w.u16(audio ? 0x0100 : 0);
  w.u16(0);
  write_matrix(w);
  w.u32(audio ? 0 : static_cast<std::uint32_t>(clamp16(c.info->pixel_width)) << 16);
  w.u32(audio ? 0 : static_cast<std::uint32_t>(clamp16(c.info->pixel_height)) << 16);
  w.end(tkhd);

  const auto mdia = w.begin("mdia");
  const auto mdhd = w.begin_full("mdhd", 0, 0);
  w.u32(0);
  w.u32(0);
  w.u32(timescale_of(c));
  w.u32(0);
  w.u16(kLanguageUnd);
  w.u16(0);
  w.end(mdhd);
  const auto hdlr = w.begin_full("hdlr", 0, 0);
  w.u32(0);
  if (audio) {
    w.fourcc("soun");
  } else {
    w.fourcc("vide");
  }
  w.zeros(12);
  static constexpr std::uint8_t kVideoName[] = "VideoHandler";
  static constexpr std::uint8_t kSoundName[] = "SoundHandler";
  w.bytes(audio ? std::span<const std::uint8_t>(kSoundName) : std::span<const std::uint8_t>(kVideoName));
  w.end(hdlr);

  const auto minf = w.begin("minf");
  if (audio) {
    const auto smhd = w.begin_full("smhd", 0, 0);
    w.u32(0);  // balance, reserved
    w.end(smhd);
  } else {
    const auto vmhd = w.begin_full("vmhd", 0, 1);
    w.zeros(8);  // graphicsmode, opcolor
    w.end(vmhd);
  }
  const auto dinf = w.begin("dinf");
  const auto dref = w.begin_full("dref", 0, 0);
  w.u32(1);
  const auto url = w.begin_full("url ", 0, 1);  // media in the same file
  w.end(url);
  w.end(dref);
  w.end(dinf);
  const auto stbl = w.begin("stbl");
  const auto stsd = w.begin_full("stsd", 0, 0);
  w.u32(1);
  write_sample_entry(w, c, track_id);
  w.end(stsd);
  const auto empty_table = [&w](const char(&type)[5]) {
    const auto box = w.begin_full(type, 0, 0);
    w.u32(0);  // entry_count
    w.end(box);
  };
  empty_table("stts");
  empty_table("stsc");
  empty_table("stco");
  const auto stsz = w.begin_full("stsz", 0, 0);
  w.u32(0);
  w.u32(0);
  w.end(stsz);
  w.end(stbl);
  w.end(minf);
  w.end(mdia);
  w.end(trak);

  const auto mvex = w.begin("mvex");
  const auto trex = w.begin_full("trex", 0, 0);
  w.u32(track_id);
  w.u32(1);  // default_sample_description_index
  w.u32(0);
  w.u32(0);
  w.u32(0);
  w.end(trex);
  w.end(mvex);
  w.end(moov);
  return out;
}

std::variant<std::vector<std::uint8_t>, MediaError> fmp4_media_segment(std::span<const std::uint8_t> header,
                                                                       std::span<const std::uint8_t> cluster,
                                                                       std::uint64_t track_number,
                                                                       std::uint32_t sequence_number,
                                                                       std::int64_t fragment_start_ms) {
  HeaderTrack ht;
  if (auto err = playback::load_track(header, track_number, false, ht)) return std::move(*err);
  if (auto err = check_track_id(track_number)) return std::move(*err);
  const TrackConfig& c = ht.config;
  const std::int64_t nominal = playback::nominal_frame_ns(c);

  std::vector<playback::TrackFrame> frames;
  frames.reserve(256);
  if (auto err = playback::collect_frames(cluster, track_number, ht.header.timecode_scale_ns, nominal, frames)) {
    return std::move(*err);
  }
  const std::uint32_t timescale = timescale_of(c);
  const std::int64_t base_ns = fragment_start_ms * 1'000'000;
  auto planned = playback::plan_timing(frames, base_ns, timescale, nominal, c.kind == TrackKind::aac);
  if (auto* err = std::get_if<MediaError>(&planned)) return std::move(*err);
  const playback::TimingPlan& plan = std::get<playback::TimingPlan>(planned);

  std::vector<playback::SamplePayload> payloads(frames.size());
  std::uint64_t mdat_payload = 0;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    if (auto err = playback::plan_payload(frames[i], c, payloads[i])) {
      err->message += " (frame " + std::to_string(i) + ")";
      return std::move(*err);
    }
    mdat_payload += payloads[i].size;
  }
  const std::int64_t base_dts = frames.empty() ? playback::ns_to_ticks(base_ns, timescale) : plan.samples[0].dts;
  if (base_dts < 0) return error(MediaErrc::invalid_media_frame, "the fragment would start before time 0");

  const std::size_t per_sample = plan.has_cts ? 16 : 12;
  const std::size_t moof_size = 8 + 16 + 8 + 16 + 20 + 20 + per_sample * frames.size();
  const std::uint64_t total = 24 + moof_size + 8 + mdat_payload;
  if (8 + mdat_payload > std::numeric_limits<std::uint32_t>::max()) {
    return error(MediaErrc::invalid_media_frame, "the fragment is too large for one mdat");
  }

  std::vector<std::uint8_t> out;
  out.reserve(static_cast<std::size_t>(total));
  BoxWriter w(out);
  const auto styp = w.begin("styp");
  w.fourcc("msdh");
  w.u32(0);
  w.fourcc("msdh");
  w.fourcc("msix");
  w.end(styp);

  const auto moof = w.begin("moof");
  const auto mfhd = w.begin_full("mfhd", 0, 0);
  w.u32(sequence_number);
  w.end(mfhd);
  const auto traf = w.begin("traf");
  const auto tfhd = w.begin_full("tfhd", 0, kTfhdDefaultBaseIsMoof);
  w.u32(static_cast<std::uint32_t>(track_number));
  w.end(tfhd);
  const auto tfdt = w.begin_full("tfdt", 1, 0);
  w.u64(static_cast<std::uint64_t>(base_dts));
  w.end(tfdt);
  const std::uint32_t trun_flags =
      kTrunDataOffset | kTrunDuration | kTrunSize | kTrunFlags | (plan.has_cts ? kTrunCompositionOffset : 0);
  const auto trun = w.begin_full("trun", plan.has_cts ? 1 : 0, trun_flags);
  w.u32(static_cast<std::uint32_t>(frames.size()));
  const std::size_t data_offset_at = w.size();
  w.u32(0);
  const bool audio = c.kind == TrackKind::aac;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const auto& s = plan.samples[i];
    w.u32(s.duration);
    w.u32(static_cast<std::uint32_t>(payloads[i].size));
    w.u32(audio || frames[i].key ? kSyncSampleFlags : kNonSyncSampleFlags);
    if (plan.has_cts) w.u32(static_cast<std::uint32_t>(static_cast<std::int32_t>(s.cts)));
  }
  w.end(trun);
  w.end(traf);
  w.end(moof);
  w.patch32(data_offset_at, static_cast<std::uint32_t>(w.size() - moof + 8));

  w.u32(static_cast<std::uint32_t>(8 + mdat_payload));
  w.fourcc("mdat");
  for (std::size_t i = 0; i < frames.size(); ++i) {
    if (payloads[i].annex_b) {
      playback::write_payload(frames[i], c, payloads[i], w.extend(payloads[i].size));
    } else {
      w.bytes(frames[i].payload.subspan(payloads[i].skip, payloads[i].size));
    }
  }
  return out;
}

}  // namespace kvsd::media
