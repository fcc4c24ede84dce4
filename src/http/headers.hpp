#pragma once
// Headers: an ordered list of header fields as received or to be sent.
// Names keep the case they were given; every lookup is case-insensitive.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kvsd::http {

bool iequals(std::string_view a, std::string_view b) noexcept;
std::string to_lower(std::string_view s);

class Headers {
 public:
  using Field = std::pair<std::string, std::string>;

  Headers() = default;
  Headers(std::initializer_list<Field> fields) : fields_(fields) {}

  // Appends a field; an existing field of the same name is kept (repeated headers are legal).
  void add(std::string name, std::string value);
  // Replaces every field of this name with one field.
  void set(std::string name, std::string value);
  // Removes every field of this name.
  void erase(std::string_view name);
  // First value of this name, if any.
  [[nodiscard]] std::optional<std::string_view> get(std::string_view name) const;
  [[nodiscard]] bool contains(std::string_view name) const { return get(name).has_value(); }

  [[nodiscard]] std::size_t size() const noexcept { return fields_.size(); }
  [[nodiscard]] bool empty() const noexcept { return fields_.empty(); }
  [[nodiscard]] auto begin() const noexcept { return fields_.begin(); }
  [[nodiscard]] auto end() const noexcept { return fields_.end(); }

 private:
  std::vector<Field> fields_;
};

}  // namespace kvsd::http
