// libFuzzer target for the control plane's JSON requests: validation::parse_object on the raw
// body, then the field readers with the fields and rules the control plane operations use
// (src/api/control_plane_*.cpp), and the constraint predicates on every string in the document.
//
// Input: the request body.
// Oracle: nothing crashes or throws; a body that is not an object is errc::serialization; a
// parsed object dumps and re-parses to an equal value with the same dump, and every reader gives
// the same result (value or error message) on the re-parsed copy; a reader that succeeds returns
// values that satisfy its rule (lengths, ranges, counts, enums, exactly one of StreamName and
// StreamARN); a failure is errc::invalid_argument naming the field; the predicates agree with
// each other where their rules nest (a device name is a stream name, a tag key is a tag value, a
// JPEG quality is a number 1-100, ...).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/validation.hpp"
#include "fuzz_support.hpp"

namespace {

using kvsd::fuzz::check;
using nlohmann::json;
namespace v = kvsd::api::validation;

void note(std::string& log, const std::optional<kvs::Error>& e, std::string_view field) {
  if (!e) {
    log += "ok\n";
    return;
  }
  check(e->code == kvs::errc::invalid_argument, "a field error is invalid_argument");
  check(e->message.find(field) != std::string::npos, "a field error names the field");
  log += e->message;
  log += '\n';
}

void check_tags(const kvs::Tags& tags) {
  check(!tags.empty() && tags.size() <= kvs::kMaxTagsPerStream, "1 to 50 tags");
  for (const auto& [k, val] : tags) check(v::is_tag_key(k) && v::is_tag_value(val), "accepted tags satisfy the rules");
}

// Runs every reader on `j` and returns a digest of the results.
std::string read_fields(const json& j) {
  std::string log;
  {
    kvs::StreamRef ref;
    const auto e = v::stream_ref(j, ref);
    note(log, e, "Stream");
    if (!e) {
      check(ref.name.empty() != ref.arn.empty(), "exactly one of StreamName and StreamARN");
      check(ref.name.empty() || v::is_stream_name(ref.name), "an accepted StreamName is valid");
      check(ref.arn.empty() || v::is_resource_arn(ref.arn), "an accepted StreamARN is valid");
      log += ref.name + '|' + ref.arn + '\n';
    }
  }
  struct StringField {
    const char* field;
    bool (*valid)(std::string_view);
    bool required;
  };
  static constexpr StringField kStrings[] = {
      {"StreamName", v::is_stream_name, true},    {"DeviceName", v::is_device_name, false},
      {"MediaType", v::is_media_type, false},     {"CurrentVersion", v::is_version, false},
      {"NextToken", v::is_next_token, false},     {"ResourceARN", v::is_resource_arn, true},
      {"StreamARN", v::is_resource_arn, false},   {"ComparisonValue", v::is_stream_name, false},
      {"Uri", v::is_destination_uri, false},      {"DestinationRegion", v::is_destination_region, false},
      {"JPEGQuality", v::is_jpeg_quality, false},
  };
  for (const auto& f : kStrings) {
    if (f.required) {
      std::string out;
      const auto e = v::required_string(j, f.field, f.valid, "the rule", out);
      note(log, e, f.field);
      if (!e) {
        check(f.valid(out), "an accepted required string satisfies its rule");
        log += out + '\n';
      }
    } else {
      std::optional<std::string> out;
      const auto e = v::optional_string(j, f.field, f.valid, "the rule", out);
      note(log, e, f.field);
      check(!e || !out, "no value with an error");
      if (out) {
        check(f.valid(*out), "an accepted optional string satisfies its rule");
        log += *out + '\n';
      }
    }
  }
  struct IntField {
    const char* field;
    std::int64_t min, max;
  };
  static constexpr IntField kInts[] = {{"DataRetentionInHours", 0, kvs::kMaxDataRetentionHours},
                                       {"DataRetentionChangeInHours", 1, kvs::kMaxDataRetentionHours},
                                       {"MaxResults", 1, 10000},
                                       {"SamplingInterval", 3000, 20000},
                                       {"WidthPixels", 1, 3840}};
  for (const auto& f : kInts) {
    std::optional<std::int64_t> n;
    const auto e = v::optional_int(j, f.field, f.min, f.max, n);
    note(log, e, f.field);
    if (n) {
      check(*n >= f.min && *n <= f.max, "an accepted integer is in range");
      log += std::to_string(*n) + '\n';
    }
  }
  for (const bool required : {false, true}) {
    kvs::Tags tags;
    const auto e = v::tag_map(j, "Tags", required, tags);
    note(log, e, "Tags");
    if (!e && (required || !tags.empty())) check_tags(tags);
    for (const auto& [k, val] : tags) log += k + '=' + val + '\n';
  }
  {
    kvs::Tags tags;
    const auto e = v::tag_list(j, "Tags", tags);
    note(log, e, "Tags");
    if (!e) check_tags(tags);
    for (const auto& [k, val] : tags) log += k + '=' + val + '\n';
  }
  {
    std::vector<std::string> keys;
    const auto e = v::tag_keys(j, "TagKeyList", keys);
    note(log, e, "TagKeyList");
    if (!e) {
      check(!keys.empty() && keys.size() <= kvs::kMaxTagsPerStream, "1 to 50 tag keys");
      for (const auto& k : keys) check(v::is_tag_key(k), "accepted tag keys satisfy the rule");
    }
    for (const auto& k : keys) log += k + '\n';
  }
  {
    std::optional<kvs::ImageGenerationConfiguration> c;
    const auto e = v::image_generation_configuration(j, "ImageGenerationConfiguration", c);
    note(log, e, "ImageGenerationConfiguration");
    if (c) {
      check(c->status == "ENABLED" || c->status == "DISABLED", "Status is an enum value");
      check(c->image_selector_type == "SERVER_TIMESTAMP" || c->image_selector_type == "PRODUCER_TIMESTAMP",
            "ImageSelectorType is an enum value");
      check(v::is_destination_uri(c->destination_uri) && v::is_destination_region(c->destination_region),
            "the destination is valid");
      check(c->sampling_interval_ms >= 3000 && c->sampling_interval_ms <= 20000, "SamplingInterval in range");
      check(c->format == "JPEG" || c->format == "PNG", "Format is an enum value");
      check(c->format_config.size() <= 1, "FormatConfig has at most one entry");
      for (const auto& [k, val] : c->format_config) check(k == "JPEGQuality" && v::is_jpeg_quality(val), "JPEGQuality");
      check(!c->width_pixels || (*c->width_pixels >= 1 && *c->width_pixels <= 3840), "WidthPixels in range");
      check(!c->height_pixels || (*c->height_pixels >= 1 && *c->height_pixels <= 2160), "HeightPixels in range");
      log += c->destination_uri + '|' + std::to_string(c->sampling_interval_ms) + '\n';
    }
  }
  {
    std::optional<kvs::NotificationConfiguration> c;
    const auto e = v::notification_configuration(j, "NotificationConfiguration", c);
    note(log, e, "NotificationConfiguration");
    if (c) {
      check(c->status == "ENABLED" || c->status == "DISABLED", "Status is an enum value");
      check(v::is_destination_uri(c->destination_uri), "the destination is valid");
      log += c->destination_uri + '\n';
    }
  }
  return log;
}

// Rules that nest, on any string.
void check_predicates(std::string_view s) {
  const bool stream = v::is_stream_name(s);
  check(!stream || (!s.empty() && s.size() <= 256), "a stream name has 1-256 characters");
  check(!v::is_device_name(s) || stream, "a device name is a stream name");
  check(!v::is_version(s) || (stream && s.size() <= 64), "a version is a short stream name");
  check(!v::is_next_token(s) || s.size() <= 512, "a next token has at most 512 characters");
  check(!v::is_tag_key(s) || v::is_tag_value(s), "a tag key is a tag value");
  check(!v::is_media_type(s) || (s.find('/') != std::string_view::npos && s.size() <= 128), "a media type has a '/'");
  check(!v::is_resource_arn(s) || s.substr(0, 4) == "arn:", "an ARN starts with arn:");
  check(!v::is_destination_uri(s) || (s.find(':') != std::string_view::npos && s.size() <= 255),
        "a destination URI has a scheme");
  check(!v::is_destination_region(s) || (s.size() >= 9 && s.size() <= 14), "a region has 9-14 characters");
  if (v::is_jpeg_quality(s)) {
    check(s.size() <= 3 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }),
          "a JPEG quality is digits");
    const int n = std::stoi(std::string(s));
    check(n >= 1 && n <= 100, "a JPEG quality is 1-100");
  }
}

void walk(const json& j, int depth = 0) {
  if (depth > 64) return;
  if (j.is_string()) check_predicates(j.get_ref<const std::string&>());
  if (j.is_object()) {
    for (const auto& [k, val] : j.items()) {
      check_predicates(k);
      walk(val, depth + 1);
    }
  } else if (j.is_array()) {
    for (const auto& val : j) walk(val, depth + 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  check_predicates(body);
  const auto parsed = v::parse_object(body);
  if (!parsed) {
    check(parsed.error().code == kvs::errc::serialization, "a body that is not an object is a serialization error");
    return 0;
  }
  const json& j = parsed.value();
  check(j.is_object(), "parse_object gives an object");
  const std::string text = j.dump();
  const auto again = v::parse_object(text);
  check(again.has_value(), "a parsed object's dump parses");
  check(again.value() == j, "dump and re-parse give an equal value");
  check(again.value().dump() == text, "the dump is stable");
  check(read_fields(j) == read_fields(again.value()), "the readers agree on the re-parsed copy");
  walk(j);
  return 0;
}
