#pragma once
// MediaError: why stored media could not be turned into what a reader asked for (HLS/DASH fMP4
// segments, MPEG-TS chunks, GetClip's MP4). One enum for every media read; api maps it to the AWS
// error once (api/media_read_common.hpp, media_error()).

#include <string>

namespace kvsd::media {

enum class MediaErrc {
  unsupported_media,      // a codec, track type or track layout the output cannot carry
  missing_codec_private,  // a track without CodecPrivate
  invalid_codec_private,  // a CodecPrivate that is not a valid avcC/hvcC or AudioSpecificConfig
  invalid_media_frame,    // a frame or block that cannot be read or muxed
  internal                // anything else (an allocation or library failure)
};

struct MediaError {
  MediaErrc code;
  std::string message;  // for logs and the error body: what was wrong
};

}  // namespace kvsd::media
