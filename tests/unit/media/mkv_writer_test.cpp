// MkvWriter against the stock SDK's own bytes: with the capture's SegmentUID, codec data and
// picture size, the writer reproduces the captured PutMedia header (EBML, Segment, Info, Tracks),
// the Cluster start, SimpleBlock headers and the Tags elements byte for byte.

#include "media/mkv_writer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <string>

namespace kvsd::media {
namespace {

Bytes read_capture(const std::string& name) {
  std::ifstream in(std::string(KVSD_TEST_DATA_DIR) + "/sdk-captures/" + name, std::ios::binary);
  EXPECT_TRUE(in) << name;
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

Bytes slice(const Bytes& b, std::size_t offset, std::size_t size) {
  if (offset + size > b.size()) return {};
  return Bytes(b.begin() + static_cast<std::ptrdiff_t>(offset), b.begin() + static_cast<std::ptrdiff_t>(offset + size));
}

bool contains(const Bytes& hay, const Bytes& needle) {
  return std::search(hay.begin(), hay.end(), needle.begin(), needle.end()) != hay.end();
}

MkvSegmentSpec segment_from(const Bytes& capture) {
  MkvSegmentSpec s;
  // SegmentUID payload at 0x36 in every SDK capture (EBML 40 bytes, Segment 5, Info 6, UID 3).
  std::copy_n(capture.begin() + 0x36, 16, s.segment_uid.begin());
  return s;
}

MkvTrackSpec video_from(const Bytes& capture) {
  MkvTrackSpec v;
  v.pixel_width = 640;
  v.pixel_height = 480;
  v.codec_private = slice(capture, 0xEB, 45);  // CodecPrivate payload (mkvinfo: at 0xe8, size 48)
  return v;
}

TEST(MkvWriter, HeaderMatchesSdkVideoCapture) {
  const Bytes cap = read_capture("realtime-h264/04-putMedia-full.mkv");
  ASSERT_GT(cap.size(), 0x200u);
  const MkvTrackSpec tracks[] = {video_from(cap)};
  const Bytes header = write_mkv_header(segment_from(cap), tracks);
  // mkvinfo: the first Cluster starts at 0x118.
  EXPECT_EQ(header, slice(cap, 0, 0x118));
}

TEST(MkvWriter, HeaderMatchesSdkAudioVideoCapture) {
  const Bytes cap = read_capture("audio-video-relative/04-putMedia-full.mkv");
  ASSERT_GT(cap.size(), 0x200u);
  MkvTrackSpec audio;
  audio.number = 2;
  audio.uid = 2;
  audio.type = MkvTrackType::audio;
  audio.name = "kvs_audio_track";
  audio.codec_id = "A_AAC";
  audio.sampling_frequency = 48000;
  audio.channels = 2;
  audio.codec_private = {0x11, 0x90};
  const MkvTrackSpec tracks[] = {video_from(cap), audio};
  const Bytes header = write_mkv_header(segment_from(cap), tracks);
  EXPECT_EQ(header, slice(cap, 0, 0x15E));  // first Cluster at 0x15e
}

TEST(MkvWriter, DefaultsAreTheSdkDefaults) {
  const MkvTrackSpec tracks[] = {MkvTrackSpec{}};
  const Bytes header = write_mkv_header(MkvSegmentSpec{}, tracks);
  const Bytes start = {0x1A, 0x45, 0xDF, 0xA3, 0xA3, 0x42, 0x86, 0x81, 0x01, 0x42, 0xF7, 0x81, 0x01, 0x42,
                       0xF2, 0x81, 0x04, 0x42, 0xF3, 0x81, 0x08, 0x42, 0x82, 0x88, 'm',  'a',  't',  'r',
                       'o',  's',  'k',  'a',  0x42, 0x87, 0x81, 0x02, 0x42, 0x85, 0x81, 0x02, 0x18, 0x53,
                       0x80, 0x67, 0xFF, 0x15, 0x49, 0xA9, 0x66, 0x40, 0x67, 0x73, 0xA4, 0x90, 0x55};
  EXPECT_EQ(slice(header, 0, start.size()), start);
  // TimecodeScale 1 ms as an 8-byte unsigned
  EXPECT_TRUE(contains(header, {0x2A, 0xD7, 0xB1, 0x88, 0, 0, 0, 0, 0, 0x0F, 0x42, 0x40}));
  EXPECT_TRUE(contains(header, {0x53, 0x6E, 0x8F, 'k', 'v', 's', '_', 'v'}));
  // no Video element without a picture size, no CodecPrivate without codec data
  EXPECT_FALSE(contains(header, {0xE0, 0x10}));
  EXPECT_FALSE(contains(header, {0x63, 0xA2}));
}

TEST(MkvWriter, ClusterStartMatchesCapture) {
  const Bytes cap = read_capture("realtime-h264/04-putMedia-full.mkv");
  ASSERT_GT(cap.size(), 0x200u);
  // Cluster at 0x118: ID, unknown size, Timecode 8 bytes, Position 0.
  std::uint64_t tc = 0;
  for (std::size_t i = 0; i < 8; ++i) tc = (tc << 8) | cap.at(0x11F + i);
  EXPECT_EQ(tc, 1795508838575u);  // 498752:27:18.575 in mkvinfo
  EXPECT_EQ(write_cluster_start(tc), slice(cap, 0x118, 18));
  const Bytes zero = {0x1F, 0x43, 0xB6, 0x75, 0xFF, 0xE7, 0x88, 0, 0, 0, 0, 0, 0, 0, 0, 0xA7, 0x81, 0x00};
  EXPECT_EQ(write_cluster_start(0), zero);
}

TEST(MkvWriter, SimpleBlockHeaderMatchesCapture) {
  const Bytes cap = read_capture("realtime-h264/04-putMedia-full.mkv");
  // first SimpleBlock at 0x12a: data size 119393 = 4 + payload
  const auto h = simple_block_header(1, 0, true, 119393 - 4);
  EXPECT_EQ(Bytes(h.begin(), h.end()), slice(cap, 0x12A, kSimpleBlockHeaderSize));
}

TEST(MkvWriter, SimpleBlockFields) {
  Bytes out;
  const std::uint8_t payload[] = {0xDE, 0xAD};
  append_simple_block(out, 2, -2, false, payload);
  const Bytes want = {0xA3, 0x01, 0, 0, 0, 0, 0, 0, 0x06, 0x82, 0xFF, 0xFE, 0x00, 0xDE, 0xAD};
  EXPECT_EQ(out, want);
  const auto h = simple_block_header(1, 1000, true, 0x0102030405);
  const std::array<std::uint8_t, kSimpleBlockHeaderSize> want_h = {0xA3, 0x01, 0x00, 0x00, 0x01, 0x02, 0x03,
                                                                   0x04, 0x09, 0x81, 0x03, 0xE8, 0x80};
  EXPECT_EQ(h, want_h);
}

TEST(MkvWriter, TagsMatchCapture) {
  const Bytes cap = read_capture("realtime-h264/04-putMedia-full.mkv");
  // mkvinfo: Tags TEST_KEY_1 / TEST_VALUE_1 at 0xdffaa (74 bytes), END_OF_FRAGMENT at 0xe0244 (84).
  EXPECT_EQ(write_tag("TEST_KEY_1", "TEST_VALUE_1"), slice(cap, 0xDFFAA, 74));
  EXPECT_EQ(write_end_of_fragment_tag(), slice(cap, 0xE0244, 84));
  // The next element is the following Cluster.
  EXPECT_EQ(slice(cap, 0xE0244 + 84, 4), (Bytes{0x1F, 0x43, 0xB6, 0x75}));
}

TEST(MkvWriter, LongValuesGetWiderSizes) {
  MkvTrackSpec t;
  t.codec_private.assign(300, 0xAB);
  const MkvTrackSpec tracks[] = {t};
  MkvSegmentSpec seg;
  seg.title.assign(127, 't');  // 127 = 0x7F would be the reserved all-ones 1-byte size
  const Bytes header = write_mkv_header(seg, tracks);
  EXPECT_TRUE(contains(header, {0x63, 0xA2, 0x41, 0x2C, 0xAB}));  // 300 as a 2-byte vint
  EXPECT_TRUE(contains(header, {0x7B, 0xA9, 0x40, 0x7F, 't'}));
  EXPECT_FALSE(contains(header, {0x7B, 0xA9, 0xFF}));
}

}  // namespace
}  // namespace kvsd::media
