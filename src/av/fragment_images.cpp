#include "av/fragment_images.hpp"

#include <algorithm>
#include <limits>

#include "av/cluster_frames.hpp"
#include "av/image_encoder.hpp"
#include "av/video_decoder.hpp"
#include "media/mkv_document.hpp"

namespace kvsd::av {
namespace {

constexpr std::uint64_t kVideoTrackNumber = 1;  // GetImages reads track 1 (spec section 6)
constexpr std::uint64_t kTrackTypeVideo = 1;

class Extraction {
 public:
  Extraction(std::span<const std::int64_t> instants_ns, const ImageOptions& options)
      : instants_(instants_ns), encoder_(options) {
    out_.images.resize(instants_.size());
  }

  // Every instant not yet settled gets `status`.
  void settle_rest(ImageStatus status, std::string why = {}) {
    if (next_ < instants_.size() && out_.error.empty()) out_.error = std::move(why);
    for (; next_ < instants_.size(); ++next_) out_.images[next_].status = status;
  }

  void run(std::span<const std::uint8_t> header, std::span<const std::uint8_t> cluster) {
    if (instants_.empty()) return;
    const auto info = media::read_stored_header(header);
    if (!info) return settle_rest(ImageStatus::media_error, "the stored stream header is malformed");
    const media::TrackInfo* video = nullptr;
    for (const auto& t : info->tracks)
      if (t.number == kVideoTrackNumber) video = &t;
    if (video == nullptr || video->type != kTrackTypeVideo)
      return settle_rest(ImageStatus::media_error, "track 1 is not a video track");
    const auto frames = read_cluster_frames(cluster, kVideoTrackNumber);
    if (!frames) return settle_rest(ImageStatus::media_error, "the stored Cluster is malformed");
    if (frames->empty()) return settle_rest(ImageStatus::media_error, "the fragment has no video frames");

    scale_ns_ = static_cast<std::int64_t>(std::min<std::uint64_t>(info->timecode_scale_ns, 1'000'000'000));
    std::int64_t first = std::numeric_limits<std::int64_t>::max();
    for (const auto& f : *frames) first = std::min(first, f.timecode * scale_ns_);
    while (next_ < instants_.size() && instants_[next_] < first) out_.images[next_++].status = ImageStatus::no_media;
    if (next_ == instants_.size()) return;

    std::string error;
    auto decoder = VideoDecoder::create(video->codec_id, video->codec_private, error);
    if (!decoder) return settle_rest(ImageStatus::media_error, error);

    for (const auto& f : *frames) {
      if (!decoder->send(f.payload, f.timecode)) break;
      if (!drain(*decoder)) return;
    }
    if (!decoder->failed() && decoder->finish()) {
      if (!drain(*decoder)) return;
    }
    if (decoder->failed()) return settle_rest(ImageStatus::media_error, decoder->error());
    // The last frame is shown from its time to the end of the fragment.
    while (next_ < instants_.size() && held_) settle_with_held();
    settle_rest(ImageStatus::media_error, "no frame of the fragment could be decoded");
  }

  FragmentImages take() { return std::move(out_); }

 private:
  // Takes decoded frames; false when every instant is settled (stop decoding).
  bool drain(VideoDecoder& decoder) {
    while (const AVFrame* frame = decoder.receive()) {
      ++out_.frames_decoded;
      const std::int64_t pts = frame->pts != AV_NOPTS_VALUE ? frame->pts : frame->best_effort_timestamp;
      const std::int64_t at = pts * scale_ns_;
      // Instants before this frame show the previous one (or none could be decoded yet).
      while (next_ < instants_.size() && instants_[next_] < at) {
        if (!held_) {
          out_.images[next_++].status = ImageStatus::media_error;
          if (out_.error.empty()) out_.error = "the frames before an instant could not be decoded";
        } else {
          settle_with_held();
        }
      }
      if (next_ == instants_.size()) return false;
      if (!held_) held_.reset(av_frame_alloc());
      if (!held_) {
        settle_rest(ImageStatus::media_error, "out of memory");
        return false;
      }
      av_frame_unref(held_.get());
      if (av_frame_ref(held_.get(), frame) < 0) {
        settle_rest(ImageStatus::media_error, "out of memory");
        return false;
      }
      held_encoded_.reset();
    }
    return true;
  }

  void settle_with_held() {
    if (!held_encoded_) {
      auto bytes = encoder_.encode(*held_);
      if (!bytes) {
        out_.images[next_++].status = ImageStatus::media_error;
        if (out_.error.empty()) out_.error = encoder_.error();
        return;
      }
      held_encoded_ = std::make_shared<const std::vector<std::uint8_t>>(std::move(*bytes));
    }
    auto& image = out_.images[next_++];
    image.status = ImageStatus::ok;
    image.bytes = held_encoded_;
  }

  std::span<const std::int64_t> instants_;
  ImageEncoder encoder_;
  FragmentImages out_;
  std::size_t next_ = 0;  // first instant not settled
  std::int64_t scale_ns_ = 1'000'000;
  ff::FramePtr held_;  // the latest decoded frame (a reference)
  std::shared_ptr<const std::vector<std::uint8_t>> held_encoded_;
};

}  // namespace

FragmentImages extract_fragment_images(std::span<const std::uint8_t> header, std::span<const std::uint8_t> cluster,
                                       std::span<const std::int64_t> instants_ns, const ImageOptions& options) {
  Extraction x(instants_ns, options);
  x.run(header, cluster);
  return x.take();
}

}  // namespace kvsd::av
