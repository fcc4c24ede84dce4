#pragma once
// Sans-I/O parser of the PutMedia response body: a stream of flat JSON objects (one ACK each,
// usually one per line / per HTTP chunk) that may be split anywhere across feed() calls. Bytes
// outside objects are skipped. An object longer than kMaxAckBytes, or one that is not valid JSON
// with a known EventType, is skipped and counted in malformed(), like the SDK's parser resets.
//
// Threading: none; one parser per PutMedia response.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kvsput {

enum class AckType { buffering, received, persisted, error, idle };

struct Ack {
  AckType type = AckType::idle;
  std::optional<std::uint64_t> timecode;  // FragmentTimecode
  std::string fragment_number;
  std::optional<std::int64_t> error_id;  // ErrorId on ERROR
};

std::string_view to_string(AckType t) noexcept;

class AckParser {
 public:
  static constexpr std::size_t kMaxAckBytes = 4096;

  std::vector<Ack> feed(std::string_view bytes);
  [[nodiscard]] std::size_t malformed() const noexcept { return malformed_; }

 private:
  void finish_object(std::vector<Ack>& out);

  std::string object_;
  bool in_object_ = false;
  bool in_string_ = false;
  bool escape_ = false;
  int depth_ = 0;
  bool overflow_ = false;
  std::size_t malformed_ = 0;
};

}  // namespace kvsput
