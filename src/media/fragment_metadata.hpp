#pragma once
// FragmentMetadata: which fragment the user metadata of a PutMedia body belongs to, and the 4009
// limits on it. Items that arrive while a fragment is open are its own; items that arrive while
// none is open wait for the next Cluster, unless an END_OF_FRAGMENT comes first: then they were
// the end of a fragment that is not in this body (an orphan the stock SDK's replay sends after a
// reconnect; docs/storage.md, "Reconnect bodies") and are dropped. A waiting item that breaks a
// limit is not reported when it arrives but at the next Cluster, so the ERROR can name it.
//
// Threading: none; owned by one MkvIngestParser.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace kvsd::media {

using MetadataItems = std::vector<std::pair<std::string, std::string>>;

struct MetadataLimits {
  std::size_t max_items = 10;
  std::size_t max_name_bytes = 128;
  std::size_t max_value_bytes = 256;
};

class FragmentMetadata {
 public:
  explicit FragmentMetadata(const MetadataLimits& limits) : limits_(limits) {}

  // Adds an item to the open fragment's list. Returns the limit it breaks (the upload fails
  // with 4009), or nullptr.
  [[nodiscard]] const char* add_to_open(MetadataItems& fragment, std::string name, std::string value) const;
  // Adds an item that arrived while no fragment is open (element at `body_offset`).
  void add_waiting(std::string name, std::string value, std::uint64_t body_offset);
  // An END_OF_FRAGMENT while no fragment is open: what waits was an orphan's.
  void drop_waiting();
  // A Cluster opens: the waiting items become its metadata.
  MetadataItems take_waiting();
  // The opening Cluster's Timecode is known: the limit its waiting items broke (fail with 4009,
  // naming that Cluster), or none.
  std::optional<std::string> take_problem() { return std::exchange(waiting_problem_, std::nullopt); }

 private:
  // Which limit one more item breaks for a list of `count`; nullptr: none.
  const char* problem(const std::string& name, const std::string& value, std::size_t count) const;

  MetadataLimits limits_;
  MetadataItems waiting_;
  std::optional<std::string> waiting_problem_;
};

}  // namespace kvsd::media
