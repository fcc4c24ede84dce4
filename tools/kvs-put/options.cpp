#include "options.hpp"

#include <cstdlib>
#include <fstream>
#include <string_view>

namespace kvsput {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

// The quoted value of `name = "value"` (kvsd's dev credentials format), or empty.
std::string toml_value(std::string_view line, std::string_view name) {
  if (line.substr(0, name.size()) != name) return {};
  line.remove_prefix(name.size());
  while (!line.empty() && (line.front() == ' ' || line.front() == '=')) line.remove_prefix(1);
  while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.remove_suffix(1);
  if (line.size() < 2 || line.front() != '"' || line.back() != '"') return {};
  return std::string(line.substr(1, line.size() - 2));
}

bool parse_number(const std::string& s, double& out) {
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return !s.empty() && end == s.c_str() + s.size();
}

}  // namespace

std::string usage() {
  return "usage: kvs-put --endpoint URL --stream NAME (--input FILE|- | --pattern SECONDS [--audio])\n"
         "               [--realtime | --max-rate MBPS] [--preload] [--streams N [--stagger SECONDS]] "
         "[--retention-hours H] [--ca PEM] "
         "[--region R]\n"
         "               [--access-key K --secret-key S | --credentials-file PATH]\n"
         "               [--timecode-type ABSOLUTE|RELATIVE] [--eofr] [--summary-json PATH] [--dump FILE]\n"
         "               [--ack-timeout SECONDS] [--quiet]\n"
         "Credentials: flags, else AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, else\n"
         "KVSD_ACCESS_KEY_ID/KVSD_SECRET_ACCESS_KEY. Region: AWS_DEFAULT_REGION, else us-west-2.\n";
}

std::optional<Options> parse_options(int argc, char** argv, std::string& error) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= argc) {
        error = std::string(arg) + " needs a value";
        return false;
      }
      out = argv[++i];
      return true;
    };
    std::string v;
    if (arg == "--endpoint") {
      if (!value(o.endpoint)) return std::nullopt;
    } else if (arg == "--stream") {
      if (!value(o.stream)) return std::nullopt;
    } else if (arg == "--input") {
      if (!value(o.input)) return std::nullopt;
    } else if (arg == "--pattern") {
      if (!value(v)) return std::nullopt;
      if (!parse_number(v, o.pattern_seconds) || o.pattern_seconds <= 0 || o.pattern_seconds > 86400) {
        error = "--pattern takes seconds in (0, 86400]";
        return std::nullopt;
      }
    } else if (arg == "--audio") {
      o.audio = true;
    } else if (arg == "--realtime") {
      o.realtime = true;
    } else if (arg == "--max-rate") {
      if (!value(v)) return std::nullopt;
      if (!parse_number(v, o.max_rate_mbps) || o.max_rate_mbps <= 0 || o.max_rate_mbps > 1e6) {
        error = "--max-rate takes MB/s in (0, 1000000]";
        return std::nullopt;
      }
    } else if (arg == "--preload") {
      o.preload = true;
    } else if (arg == "--streams") {
      double n = 0;
      if (!value(v)) return std::nullopt;
      if (!parse_number(v, n) || n < 1 || n > 10000 || n != static_cast<int>(n)) {
        error = "--streams takes an integer in [1, 10000]";
        return std::nullopt;
      }
      o.streams = static_cast<int>(n);
    } else if (arg == "--stagger") {
      if (!value(v)) return std::nullopt;
      if (!parse_number(v, o.stagger_seconds) || o.stagger_seconds < 0 || o.stagger_seconds > 3600) {
        error = "--stagger takes seconds in [0, 3600]";
        return std::nullopt;
      }
    } else if (arg == "--retention-hours") {
      double n = 0;
      if (!value(v)) return std::nullopt;
      if (!parse_number(v, n) || n < 0 || n > 87600 || n != static_cast<int>(n)) {
        error = "--retention-hours takes an integer in [0, 87600]";
        return std::nullopt;
      }
      o.retention_hours = static_cast<int>(n);
    } else if (arg == "--ca") {
      if (!value(o.ca)) return std::nullopt;
    } else if (arg == "--region") {
      if (!value(o.region)) return std::nullopt;
    } else if (arg == "--access-key") {
      if (!value(o.access_key)) return std::nullopt;
    } else if (arg == "--secret-key") {
      if (!value(o.secret_key)) return std::nullopt;
    } else if (arg == "--credentials-file") {
      if (!value(o.credentials_file)) return std::nullopt;
    } else if (arg == "--timecode-type") {
      if (!value(v)) return std::nullopt;
      if (v == "ABSOLUTE") {
        o.timecode_type = TimecodeType::absolute;
      } else if (v == "RELATIVE") {
        o.timecode_type = TimecodeType::relative;
      } else {
        error = "--timecode-type is ABSOLUTE or RELATIVE";
        return std::nullopt;
      }
    } else if (arg == "--eofr") {
      o.eofr = true;
    } else if (arg == "--summary-json") {
      if (!value(o.summary_json)) return std::nullopt;
    } else if (arg == "--dump") {
      if (!value(o.dump)) return std::nullopt;
    } else if (arg == "--ack-timeout") {
      if (!value(v)) return std::nullopt;
      if (!parse_number(v, o.ack_timeout_seconds) || o.ack_timeout_seconds <= 0) {
        error = "--ack-timeout takes seconds > 0";
        return std::nullopt;
      }
    } else if (arg == "--quiet") {
      o.quiet = true;
    } else if (arg == "--help" || arg == "-h") {
      error = "help";
      return std::nullopt;
    } else {
      error = "unknown argument " + std::string(arg);
      return std::nullopt;
    }
  }
  if (o.endpoint.empty() || o.stream.empty()) {
    error = "--endpoint and --stream are required";
    return std::nullopt;
  }
  if (o.input.empty() == (o.pattern_seconds <= 0)) {
    error = "give exactly one of --input and --pattern";
    return std::nullopt;
  }
  if (o.realtime && o.max_rate_mbps > 0) {
    error = "--realtime and --max-rate are two ways of pacing: give one";
    return std::nullopt;
  }
  if (o.preload && o.input == "-") {
    error = "--preload needs a file or --pattern, not stdin";
    return std::nullopt;
  }
  if (o.region.empty()) o.region = env("AWS_DEFAULT_REGION");
  if (o.region.empty()) o.region = "us-west-2";

  if (o.access_key.empty() != o.secret_key.empty()) {
    error = "--access-key and --secret-key go together";
    return std::nullopt;
  }
  if (o.access_key.empty() && !o.credentials_file.empty()) {
    std::ifstream in(o.credentials_file);
    if (!in) {
      error = "cannot read " + o.credentials_file;
      return std::nullopt;
    }
    for (std::string line; std::getline(in, line);) {
      if (auto a = toml_value(line, "access_key_id"); !a.empty()) o.access_key = a;
      if (auto s = toml_value(line, "secret_access_key"); !s.empty()) o.secret_key = s;
    }
    if (o.access_key.empty() || o.secret_key.empty()) {
      error = o.credentials_file + ": no access_key_id / secret_access_key";
      return std::nullopt;
    }
  }
  if (o.access_key.empty()) {
    o.access_key = env("AWS_ACCESS_KEY_ID");
    o.secret_key = env("AWS_SECRET_ACCESS_KEY");
    o.session_token = env("AWS_SESSION_TOKEN");
  }
  if (o.access_key.empty() || o.secret_key.empty()) {
    o.access_key = env("KVSD_ACCESS_KEY_ID");
    o.secret_key = env("KVSD_SECRET_ACCESS_KEY");
    o.session_token.clear();
  }
  return o;
}

}  // namespace kvsput
