#include "api/validation.hpp"

#include "kvs/decimal.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <utility>

namespace kvsd::api::validation {

namespace {

using nlohmann::json;

bool ascii_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

bool all_of(std::string_view s, bool (*pred)(char)) { return std::all_of(s.begin(), s.end(), pred); }

bool name_char(char c) { return ascii_alnum(c) || c == '_' || c == '.' || c == '-'; }
bool media_char(char c) { return ascii_alnum(c) || c == '_' || c == '-' || c == '.' || c == '+'; }
bool digit(char c) { return c >= '0' && c <= '9'; }
bool lower_digit_dash(char c) { return (c >= 'a' && c <= 'z') || digit(c) || c == '-'; }
bool lower(char c) { return c >= 'a' && c <= 'z'; }

// Takes the part of `s` up to `sep` (consumed); false when `sep` is absent or the part is empty or
// has a character outside `pred`.
bool take(std::string_view& s, char sep, bool (*pred)(char)) {
  const auto pos = s.find(sep);
  if (pos == std::string_view::npos || pos == 0) return false;
  if (!all_of(s.substr(0, pos), pred)) return false;
  s.remove_prefix(pos + 1);
  return true;
}

// Counts UTF-8 code points, and checks each against the tag character set: ASCII letters, digits,
// space and _.:/=+-@; any non-ASCII character is taken as a letter, number or separator (the
// model's \p{L}\p{Z}\p{N}); control characters are refused.
bool tag_chars(std::string_view s, std::size_t& count) {
  count = 0;
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = 1;
    if (c < 0x80) {
      if (!(ascii_alnum(static_cast<char>(c)) || c == ' ' ||
            std::string_view("_.:/=+-@").find(static_cast<char>(c)) != std::string_view::npos))
        return false;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (std::size_t k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += len;
    ++count;
  }
  return true;
}

kvs::Error invalid(std::string message) { return kvs::Error{kvs::errc::invalid_argument, std::move(message)}; }

const json* member(const json& j, const char* field) {
  const auto it = j.find(field);
  if (it == j.end() || it->is_null()) return nullptr;
  return &*it;
}

}  // namespace

bool is_stream_name(std::string_view s) { return !s.empty() && s.size() <= 256 && all_of(s, name_char); }
bool is_device_name(std::string_view s) { return !s.empty() && s.size() <= 128 && all_of(s, name_char); }

bool is_media_type(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  std::size_t start = 0;
  while (true) {
    const auto comma = s.find(',', start);
    const auto item = s.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    const auto slash = item.find('/');
    if (slash == std::string_view::npos || slash == 0 || slash + 1 == item.size()) return false;
    if (!all_of(item.substr(0, slash), media_char) || !all_of(item.substr(slash + 1), media_char)) return false;
    if (comma == std::string_view::npos) return true;
    start = comma + 1;
  }
}

bool is_resource_arn(std::string_view s) {
  if (s.empty() || s.size() > 1024) return false;
  if (s.substr(0, 4) != "arn:") return false;
  s.remove_prefix(4);
  if (!take(s, ':', lower_digit_dash)) return false;
  if (s.substr(0, 12) != "kinesisvideo") return false;
  s.remove_prefix(12);
  if (s.empty() || s.front() != ':') return false;
  s.remove_prefix(1);
  if (!take(s, ':', lower_digit_dash)) return false;
  if (!take(s, ':', digit)) return false;
  if (!take(s, '/', lower)) return false;
  const auto slash = s.rfind('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == s.size()) return false;
  return all_of(s.substr(0, slash), name_char) && all_of(s.substr(slash + 1), digit);
}

bool is_version(std::string_view s) {
  return !s.empty() && s.size() <= 64 && all_of(s, [](char c) { return ascii_alnum(c); });
}

bool is_next_token(std::string_view s) {
  return s.size() <= 512 && all_of(s, [](char c) { return ascii_alnum(c) || c == '+' || c == '/' || c == '='; });
}

bool is_tag_key(std::string_view s) {
  std::size_t n = 0;
  return tag_chars(s, n) && n >= 1 && n <= 128;
}

bool is_tag_value(std::string_view s) {
  std::size_t n = 0;
  return tag_chars(s, n) && n <= 256;
}

bool is_destination_uri(std::string_view s) {
  if (s.empty() || s.size() > 255) return false;
  const auto colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  if (!all_of(s.substr(0, colon), [](char c) { return ascii_alnum(c) || c == '_'; })) return false;
  auto rest = s.substr(colon + 1);
  if (rest.substr(0, 2) == "//") rest.remove_prefix(2);
  // ([^/]+)/?([^*]*): a non-empty part without '/', then no '*' after the first '/'.
  if (rest.empty() || rest.front() == '/') return false;
  const auto slash = rest.find('/');
  return slash == std::string_view::npos || rest.find('*', slash) == std::string_view::npos;
}

bool is_destination_region(std::string_view s) {
  if (s.size() < 9 || s.size() > 14) return false;
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    const auto dash = s.find('-', start);
    parts.push_back(s.substr(start, dash == std::string_view::npos ? std::string_view::npos : dash - start));
    if (dash == std::string_view::npos) break;
    start = dash + 1;
  }
  if (parts.size() != 3 && parts.size() != 4) return false;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i)
    if (parts[i].empty() || !all_of(parts[i], lower)) return false;
  return parts.back().size() == 1 && digit(parts.back().front());
}

bool is_jpeg_quality(std::string_view s) {
  if (s.size() > 3 || !all_of(s, digit)) return false;
  const auto n = kvs::parse_decimal<int>(s);
  return n && *n >= 1 && *n <= 100;
}

kvs::Result<json> parse_object(const std::string& body) {
  if (body.empty()) return json::object();
  auto j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return kvs::Error{kvs::errc::serialization, "The request body is not a JSON object"};
  return j;
}

std::optional<kvs::Error> optional_string(const json& j, const char* field, bool (*valid)(std::string_view),
                                          const char* constraint, std::optional<std::string>& out) {
  out.reset();
  const auto* v = member(j, field);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) return invalid(std::string(field) + " must be a string");
  const auto& s = v->get_ref<const std::string&>();
  if (!valid(s)) return invalid(std::string(field) + " '" + s + "' does not satisfy " + constraint);
  out = s;
  return std::nullopt;
}

std::optional<kvs::Error> required_string(const json& j, const char* field, bool (*valid)(std::string_view),
                                          const char* constraint, std::string& out) {
  std::optional<std::string> v;
  if (auto e = optional_string(j, field, valid, constraint, v)) return e;
  if (!v) return invalid(std::string(field) + " is required");
  out = std::move(*v);
  return std::nullopt;
}

std::optional<kvs::Error> optional_int(const json& j, const char* field, std::int64_t min, std::int64_t max,
                                       std::optional<std::int64_t>& out) {
  out.reset();
  const auto* v = member(j, field);
  if (v == nullptr) return std::nullopt;
  if (!v->is_number_integer()) return invalid(std::string(field) + " must be an integer");
  if (v->is_number_unsigned() && v->get<std::uint64_t>() > static_cast<std::uint64_t>(max))
    return invalid(std::string(field) + " must be at most " + std::to_string(max));
  const auto n = v->get<std::int64_t>();
  if (n < min || n > max)
    return invalid(std::string(field) + " must be between " + std::to_string(min) + " and " + std::to_string(max));
  out = n;
  return std::nullopt;
}

namespace {

std::optional<kvs::Error> check_tag(const std::string& field, const std::string& key, const std::string& value) {
  if (!is_tag_key(key))
    return invalid(field + ": tag key '" + key + "' must be 1-128 characters of letters, numbers, spaces and _.:/=+-@");
  if (!is_tag_value(value))
    return invalid(field + ": tag value for '" + key +
                   "' must be at most 256 characters of letters, numbers, spaces and _.:/=+-@");
  return std::nullopt;
}

std::optional<kvs::Error> check_count(const std::string& field, std::size_t n) {
  if (n < 1 || n > kvs::kMaxTagsPerStream) return invalid(field + " must have 1 to 50 entries");
  return std::nullopt;
}

}  // namespace

std::optional<kvs::Error> tag_map(const json& j, const char* field, bool required, kvs::Tags& out) {
  out.clear();
  const auto* v = member(j, field);
  if (v == nullptr) return required ? std::optional(invalid(std::string(field) + " is required")) : std::nullopt;
  if (!v->is_object()) return invalid(std::string(field) + " must be a map of strings");
  if (auto e = check_count(field, v->size())) return e;
  for (const auto& [k, val] : v->items()) {
    if (!val.is_string()) return invalid(std::string(field) + ": tag values must be strings");
    const auto& s = val.get_ref<const std::string&>();
    if (auto e = check_tag(field, k, s)) return e;
    out.emplace(k, s);
  }
  return std::nullopt;
}

std::optional<kvs::Error> tag_list(const json& j, const char* field, kvs::Tags& out) {
  out.clear();
  const auto* v = member(j, field);
  if (v == nullptr) return invalid(std::string(field) + " is required");
  if (!v->is_array()) return invalid(std::string(field) + " must be a list of {Key, Value}");
  if (auto e = check_count(field, v->size())) return e;
  for (const auto& item : *v) {
    if (!item.is_object()) return invalid(std::string(field) + " must be a list of {Key, Value}");
    const auto* k = member(item, "Key");
    const auto* val = member(item, "Value");
    if (k == nullptr || val == nullptr || !k->is_string() || !val->is_string())
      return invalid(std::string(field) + ": every tag needs a string Key and Value");
    const auto& ks = k->get_ref<const std::string&>();
    const auto& vs = val->get_ref<const std::string&>();
    if (auto e = check_tag(field, ks, vs)) return e;
    out[ks] = vs;
  }
  return std::nullopt;
}

std::optional<kvs::Error> tag_keys(const json& j, const char* field, std::vector<std::string>& out) {
  out.clear();
  const auto* v = member(j, field);
  if (v == nullptr) return invalid(std::string(field) + " is required");
  if (!v->is_array()) return invalid(std::string(field) + " must be a list of strings");
  if (auto e = check_count(field, v->size())) return e;
  for (const auto& k : *v) {
    if (!k.is_string() || !is_tag_key(k.get_ref<const std::string&>()))
      return invalid(std::string(field) +
                     ": tag keys must be 1-128 characters of letters, numbers, spaces and _.:/=+-@");
    out.push_back(k.get<std::string>());
  }
  return std::nullopt;
}

namespace {

bool is_configuration_status(std::string_view s) { return s == "ENABLED" || s == "DISABLED"; }
bool is_image_selector_type(std::string_view s) { return s == "SERVER_TIMESTAMP" || s == "PRODUCER_TIMESTAMP"; }
bool is_format(std::string_view s) { return s == "JPEG" || s == "PNG"; }

constexpr const char* kStatusRule = "one of ENABLED, DISABLED";
constexpr const char* kUriRule = "length 1-255, pattern ^[a-zA-Z_0-9]+:(//)?([^/]+)/?([^*]*)$";

// Runs `check` on the required structure in member `field`, prefixing its errors with `field.`.
template <class Check>
std::optional<kvs::Error> required_struct(const json& j, const char* field, Check&& check) {
  const auto* v = member(j, field);
  if (v == nullptr) return invalid(std::string(field) + " is required");
  if (!v->is_object()) return invalid(std::string(field) + " must be a structure");
  if (auto e = check(*v)) {
    e->message = std::string(field) + "." + e->message;
    return e;
  }
  return std::nullopt;
}

std::optional<kvs::Error> required_int(const json& j, const char* field, std::int64_t min, std::int64_t max,
                                       std::int32_t& out) {
  std::optional<std::int64_t> n;
  if (auto e = optional_int(j, field, min, max, n)) return e;
  if (!n) return invalid(std::string(field) + " is required");
  out = static_cast<std::int32_t>(*n);
  return std::nullopt;
}

std::optional<kvs::Error> format_config(const json& j, std::map<std::string, std::string>& out) {
  out.clear();
  const auto* v = member(j, "FormatConfig");
  if (v == nullptr) return std::nullopt;
  if (!v->is_object() || v->size() != 1) return invalid("FormatConfig must be a map with exactly 1 entry");
  for (const auto& [k, val] : v->items()) {
    if (k != "JPEGQuality") return invalid("FormatConfig key '" + k + "' is not one of JPEGQuality");
    if (!val.is_string()) return invalid("FormatConfig value for JPEGQuality must be a string");
    const auto& s = val.get_ref<const std::string&>();
    if (!is_jpeg_quality(s))
      return invalid("FormatConfig value '" + s + "' for JPEGQuality must be an integer from 1 to 100");
    out.emplace(k, s);
  }
  return std::nullopt;
}

std::optional<kvs::Error> image_config_members(const json& j, kvs::ImageGenerationConfiguration& c) {
  if (auto e = required_string(j, "Status", is_configuration_status, kStatusRule, c.status)) return e;
  if (auto e = required_string(j, "ImageSelectorType", is_image_selector_type,
                               "one of SERVER_TIMESTAMP, PRODUCER_TIMESTAMP", c.image_selector_type))
    return e;
  auto destination = [&c](const json& d) -> std::optional<kvs::Error> {
    if (auto e = required_string(d, "Uri", is_destination_uri, kUriRule, c.destination_uri)) return e;
    return required_string(d, "DestinationRegion", is_destination_region,
                           "length 9-14, pattern ^[a-z]+(-[a-z]+)?-[a-z]+-[0-9]$", c.destination_region);
  };
  if (auto e = required_struct(j, "DestinationConfig", destination)) return e;
  if (auto e = required_int(j, "SamplingInterval", 3000, 20000, c.sampling_interval_ms)) return e;
  if (auto e = required_string(j, "Format", is_format, "one of JPEG, PNG", c.format)) return e;
  if (auto e = format_config(j, c.format_config)) return e;
  std::optional<std::int64_t> n;
  if (auto e = optional_int(j, "WidthPixels", 1, 3840, n)) return e;
  if (n) c.width_pixels = static_cast<std::int32_t>(*n);
  if (auto e = optional_int(j, "HeightPixels", 1, 2160, n)) return e;
  if (n) c.height_pixels = static_cast<std::int32_t>(*n);
  return std::nullopt;
}

std::optional<kvs::Error> notification_config_members(const json& j, kvs::NotificationConfiguration& c) {
  if (auto e = required_string(j, "Status", is_configuration_status, kStatusRule, c.status)) return e;
  auto destination = [&c](const json& d) {
    return required_string(d, "Uri", is_destination_uri, kUriRule, c.destination_uri);
  };
  return required_struct(j, "DestinationConfig", destination);
}

// The top-level structure: errors are prefixed with `field` + ".".
template <class T, class Members>
std::optional<kvs::Error> top_level(const json& j, const char* field, Members members, std::optional<T>& out) {
  out.reset();
  const auto* v = member(j, field);
  if (v == nullptr) return std::nullopt;
  if (!v->is_object()) return invalid(std::string(field) + " must be a structure");
  T c;
  if (auto e = members(*v, c)) {
    e->message = std::string(field) + "." + e->message;
    return e;
  }
  out = std::move(c);
  return std::nullopt;
}

}  // namespace

std::optional<kvs::Error> image_generation_configuration(const json& j, const char* field,
                                                         std::optional<kvs::ImageGenerationConfiguration>& out) {
  return top_level(j, field, image_config_members, out);
}

std::optional<kvs::Error> notification_configuration(const json& j, const char* field,
                                                     std::optional<kvs::NotificationConfiguration>& out) {
  return top_level(j, field, notification_config_members, out);
}

std::optional<kvs::Error> stream_ref(const json& j, kvs::StreamRef& out) {
  std::optional<std::string> name;
  std::optional<std::string> arn;
  if (auto e = optional_string(j, "StreamName", is_stream_name, "length 1-256, pattern [a-zA-Z0-9_.-]+", name))
    return e;
  if (auto e = optional_string(j, "StreamARN", is_resource_arn, "the kinesisvideo stream ARN format", arn)) return e;
  if (name.has_value() == arn.has_value()) return invalid("Specify either StreamName or StreamARN (exactly one)");
  out.name = name.value_or(std::string());
  out.arn = arn.value_or(std::string());
  return std::nullopt;
}

}  // namespace kvsd::api::validation
