#pragma once
// Test helpers for the MKV ingest parser: a handler that records every event, a small Matroska
// builder (element by element, with a chosen size-field width or unknown size), and file loading.

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "media/mkv_ingest_parser.hpp"

namespace kvsd::media::testing {

using Bytes = std::vector<std::uint8_t>;

inline Bytes read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline std::string capture_path(const std::string& relative) {
  return std::string(KVSD_TEST_DATA_DIR) + "/sdk-captures/" + relative;
}

// Records events; describe() renders them completely (bytes included) so that two runs can be
// compared for equality.
class Recorder : public MkvIngestParser::Handler {
 public:
  void on_header(const StreamHeader& header) override {
    headers.push_back(header);
    log << "header " << header.bytes.size() << " scale " << header.timecode_scale_ns << " tracks "
        << header.tracks.size() << " bytes " << hex(header.bytes) << "\n";
  }
  void on_fragment_start(const FragmentStart& start) override {
    starts.push_back(start.cluster_timecode);
    log << "start " << start.cluster_timecode << "\n";
  }
  void on_fragment(Fragment&& fragment) override {
    log << "fragment " << fragment.cluster_timecode << " eof " << fragment.closed_by_end_of_fragment_tag << " dur "
        << fragment.duration << " bytes " << hex(fragment.cluster_bytes);
    for (const auto& [k, v] : fragment.metadata) log << " meta " << k << "=" << v;
    for (const auto& t : fragment.tracks) {
      log << " track " << t.track_number << " f " << t.frames << " k " << t.key_frames << " " << t.min_timecode << ".."
          << t.max_timecode;
    }
    log << "\n";
    fragments.push_back(std::move(fragment));
  }

  [[nodiscard]] std::string describe() const { return log.str(); }

  std::vector<StreamHeader> headers;
  std::vector<std::uint64_t> starts;
  std::vector<Fragment> fragments;

 private:
  static std::string hex(const Bytes& bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (const auto b : bytes) {
      out.push_back(kDigits[b >> 4]);
      out.push_back(kDigits[b & 15]);
    }
    return out;
  }
  std::ostringstream log;
};

// Result of feeding a body in the given pieces and finishing.
struct BodyRun {
  std::string events;
  std::optional<IngestError> error;
  std::size_t fragments = 0;
  bool ended_inside_element = false;  // MkvIngestParser::ended_inside_element() after finish()
};

inline BodyRun run_pieces(std::span<const std::uint8_t> body, const std::vector<std::size_t>& cuts,
                          const IngestLimits& limits = {}) {
  Recorder recorder;
  MkvIngestParser parser(recorder, limits);
  BodyRun run;
  std::size_t from = 0;
  for (std::size_t i = 0; i <= cuts.size() && !run.error; ++i) {
    const std::size_t to = i < cuts.size() ? cuts[i] : body.size();
    run.error = parser.feed(body.subspan(from, to - from));
    from = to;
  }
  if (!run.error) run.error = parser.finish();
  run.ended_inside_element = parser.ended_inside_element();
  run.events = recorder.describe();
  if (run.error) run.events += "error " + std::to_string(static_cast<int>(run.error->id)) + "\n";
  run.fragments = recorder.fragments.size();
  return run;
}

// ---- Matroska builder ---------------------------------------------------------------------

inline void put_id(Bytes& out, std::uint32_t id) {
  int n = id > 0xFFFFFF ? 4 : id > 0xFFFF ? 3 : id > 0xFF ? 2 : 1;
  for (int i = n - 1; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(id >> (8 * i)));
}

// Size field of `width` bytes (1..8).
inline void put_size(Bytes& out, std::uint64_t size, int width) {
  const std::uint64_t marker = std::uint64_t{1} << (7 * width);
  const std::uint64_t v = marker | size;
  for (int i = width - 1; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

inline int min_width(std::uint64_t size) {
  int w = 1;
  while (size >= (std::uint64_t{1} << (7 * w)) - 1) ++w;
  return w;
}

inline Bytes element(std::uint32_t id, const Bytes& payload, int width = 0) {
  Bytes out;
  put_id(out, id);
  put_size(out, payload.size(), width == 0 ? min_width(payload.size()) : width);
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

inline Bytes unknown_size_header(std::uint32_t id) {
  Bytes out;
  put_id(out, id);
  out.push_back(0xFF);
  return out;
}

inline Bytes uint_element(std::uint32_t id, std::uint64_t value, int bytes = 0) {
  Bytes payload;
  int n = bytes;
  if (n == 0) {
    n = 1;
    while (n < 8 && (value >> (8 * n)) != 0) ++n;
  }
  for (int i = n - 1; i >= 0; --i) payload.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
  return element(id, payload);
}

inline Bytes string_element(std::uint32_t id, const std::string& s) { return element(id, Bytes(s.begin(), s.end())); }

inline Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

inline void append(Bytes& out, const Bytes& more) { out.insert(out.end(), more.begin(), more.end()); }

inline Bytes ebml_header(const std::string& doc_type = "matroska") {
  return element(0x1A45DFA3, cat({uint_element(0x4286, 1), uint_element(0x42F7, 1), uint_element(0x42F2, 4),
                                  uint_element(0x42F3, 8), string_element(0x4282, doc_type), uint_element(0x4287, 2),
                                  uint_element(0x4285, 2)}));
}

inline Bytes info(std::uint64_t scale = 1'000'000) {
  return element(0x1549A966, cat({uint_element(0x2AD7B1, scale, 8), string_element(0x4D80, "test")}), 2);
}

inline Bytes track_entry(std::uint64_t number, std::uint64_t type, const std::string& codec,
                         std::uint64_t default_duration_ns = 0) {
  Bytes body = cat({uint_element(0xD7, number), uint_element(0x73C5, number, 8), uint_element(0x83, type),
                    string_element(0x86, codec)});
  if (default_duration_ns != 0) append(body, uint_element(0x23E383, default_duration_ns));
  if (type == 1) append(body, element(0xE0, cat({uint_element(0xB0, 320), uint_element(0xBA, 240)})));
  if (type == 2) {
    // SamplingFrequency as a 4-byte float (44100.0f) and Channels 1.
    append(body, element(0xE1, cat({element(0xB5, Bytes{0x47, 0x2C, 0x44, 0x00}), uint_element(0x9F, 1)})));
  }
  append(body, element(0x63A2, Bytes{1, 2, 3}));
  return element(0xAE, body, 4);
}

inline Bytes tracks(const std::vector<Bytes>& entries) {
  Bytes body;
  for (const auto& e : entries) append(body, e);
  return element(0x1654AE6B, body, 4);
}

// SimpleBlock: track number (1-byte varint), relative timecode, flags, then `payload_size` bytes.
inline Bytes simple_block(std::uint64_t track, std::int16_t timecode, bool key, std::size_t payload_size,
                          std::uint8_t fill = 0x42) {
  Bytes body;
  body.push_back(static_cast<std::uint8_t>(0x80 | track));
  body.push_back(static_cast<std::uint8_t>(static_cast<std::uint16_t>(timecode) >> 8));
  body.push_back(static_cast<std::uint8_t>(timecode & 0xFF));
  body.push_back(key ? 0x80 : 0x00);
  body.insert(body.end(), payload_size, fill);
  return element(0xA3, body, 8);
}

inline Bytes cluster_start(std::uint64_t timecode) {
  return cat({unknown_size_header(0x1F43B675), uint_element(0xE7, timecode, 8), uint_element(0xA7, 0)});
}

inline Bytes tags(const std::vector<std::pair<std::string, std::string>>& items) {
  Bytes tag_body;
  for (const auto& [name, value] : items) {
    append(tag_body, element(0x67C8, cat({string_element(0x45A3, name), string_element(0x4487, value)}), 8));
  }
  return element(0x1254C367, element(0x7373, tag_body, 8), 8);
}

inline Bytes end_of_fragment_tags() { return tags({{"AWS_KINESISVIDEO_END_OF_FRAGMENT", ""}}); }

// EBML header + unknown-size Segment + Info + Tracks with one video track (1) and one audio (2).
inline Bytes stream_header() {
  return cat({ebml_header(), unknown_size_header(0x18538067), info(),
              tracks({track_entry(1, 1, "V_MPEG4/ISO/AVC"), track_entry(2, 2, "A_AAC")})});
}

}  // namespace kvsd::media::testing
