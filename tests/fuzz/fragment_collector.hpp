#pragma once
// The fragments the MKV ingest parser cuts from a fuzz input, each with the stream header in force,
// kept up to a limit: the input of the targets that test what is built from stored fragments.

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "media/mkv_ingest_parser.hpp"

namespace kvsd::fuzz {

class FragmentCollector : public media::MkvIngestParser::Handler {
 public:
  using Bytes = std::vector<std::uint8_t>;
  explicit FragmentCollector(std::size_t max_fragments) : max_(max_fragments) {}

  void on_header(const media::StreamHeader& header) override { header_ = header.bytes; }
  void on_fragment_start(const media::FragmentStart&) override {}
  void on_fragment(media::Fragment&& fragment) override {
    if (fragments.size() < max_) fragments.emplace_back(header_, std::move(fragment.cluster_bytes));
  }

  // Parses `input` (a PutMedia body) to its end; the fragments are then in `fragments`.
  void parse(std::span<const std::uint8_t> input) {
    media::MkvIngestParser parser(*this);
    (void)parser.feed(input);
    (void)parser.finish();
  }

  std::vector<std::pair<Bytes, Bytes>> fragments;  // (stream header, Cluster bytes)

 private:
  std::size_t max_;
  Bytes header_;
};

}  // namespace kvsd::fuzz
