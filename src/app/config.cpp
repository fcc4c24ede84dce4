#include "app/config.hpp"

#include <toml++/toml.h>

#include <cctype>
#include <cstdlib>
#include <functional>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace kvsd::app {

namespace {

using Setter = std::function<void(Config&, const std::string&)>;

struct Key {
  std::string name;  // "section.key" or "key"
  std::string help;
  Setter set;
};

double parse_number(const std::string& key, const std::string& v) {
  char* end = nullptr;
  const double d = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0' || d < 0)
    throw std::invalid_argument(key + ": '" + v + "' is not a non-negative number");
  return d;
}

template <class T>
Setter integer(T Config::*field) {
  return [field](Config& c, const std::string& v) { c.*field = static_cast<T>(parse_number("", v)); };
}

Setter count(std::size_t http::Limits::*field) {
  return [field](Config& c, const std::string& v) { c.limits.*field = static_cast<std::size_t>(parse_number("", v)); };
}

Setter window(std::uint32_t http::Limits::*field) {
  return [field](Config& c, const std::string& v) {
    const double d = parse_number("", v);
    if (d < 65535 || d > 2147483647) throw std::invalid_argument("'" + v + "' must be 65535..2147483647");
    c.limits.*field = static_cast<std::uint32_t>(d);
  };
}

Setter seconds(std::chrono::milliseconds http::Limits::*field) {
  return [field](Config& c, const std::string& v) {
    c.limits.*field = std::chrono::milliseconds(static_cast<long long>(parse_number("", v) * 1000.0));
  };
}

template <class T>
Setter ingest(T media::IngestLimits::*field) {
  return [field](Config& c, const std::string& v) { c.ingest.*field = static_cast<T>(parse_number("", v)); };
}

template <class T>
Setter read_limit(T api::MediaReadLimits::*field) {
  return [field](Config& c, const std::string& v) {
    const double d = parse_number("", v);
    if (d < 1) throw std::invalid_argument("'" + v + "' must be at least 1");
    c.media_read.*field = static_cast<T>(d);
  };
}

Setter string(std::string Config::*field) {
  return [field](Config& c, const std::string& v) { c.*field = v; };
}

std::vector<std::string> split_list(const std::string& v) {
  std::vector<std::string> out;
  std::stringstream ss(v);
  std::string item;
  while (std::getline(ss, item, ',')) {
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.front()))) item.erase(item.begin());
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.back()))) item.pop_back();
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

bool parse_bool(const std::string& v) {
  if (v == "true" || v == "1" || v == "yes" || v == "on") return true;
  if (v == "false" || v == "0" || v == "no" || v == "off") return false;
  throw std::invalid_argument("'" + v + "' is not a boolean");
}

const std::vector<Key>& keys() {
  static const std::vector<Key> k = {
      {"data_dir", "directory for all persistent data (default ./data)", string(&Config::data_dir)},
      {"http", "cleartext listener ADDR:PORT (HTTP/1.1 and h2c); empty disables (default 127.0.0.1:8080)",
       string(&Config::http)},
      {"https", "TLS listener ADDR:PORT (HTTP/1.1 and h2 via ALPN); empty disables (default 127.0.0.1:8443)",
       string(&Config::https)},
      {"log_level", "trace, debug, info, warn, error (default info)", string(&Config::log_level)},
      {"access_log", "log one line per request at info level (default true)",
       [](Config& c, const std::string& v) { c.access_log = parse_bool(v); }},
      {"threads", "I/O threads; 0 means one per core (default 0)", integer(&Config::threads)},
      {"tls.cert", "PEM certificate chain; without it a dev CA and certificate are made under data_dir/tls",
       string(&Config::tls_cert)},
      {"tls.key", "PEM private key for tls.cert", string(&Config::tls_key)},
      {"tls.names", "extra DNS names or IP addresses for the dev certificate (comma-separated)",
       [](Config& c, const std::string& v) { c.tls_names = split_list(v); }},
      {"tls.h2", "offer HTTP/2 in ALPN (default true)",
       [](Config& c, const std::string& v) { c.tls_h2 = parse_bool(v); }},
      {"limits.header_bytes", "max bytes of a request head (default 16384)", count(&http::Limits::header_bytes)},
      {"limits.header_count", "max header fields per request (default 100)", count(&http::Limits::header_count)},
      {"limits.max_connections", "max open connections (default 10000)", count(&http::Limits::max_connections)},
      {"limits.max_connections_per_address", "max open connections from one address, 0: no limit (default 2000)",
       count(&http::Limits::max_connections_per_address)},
      {"limits.json_body_bytes", "max bytes of a signed JSON request body (default 262144)",
       count(&http::Limits::json_body_bytes)},
      {"limits.body_min_rate", "bytes per second a request body must average while awaited (default 256)",
       [](Config& c, const std::string& v) {
         c.limits.body_min_rate = static_cast<std::uint64_t>(parse_number("", v));
       }},
      {"limits.h2_max_concurrent_streams", "HTTP/2 streams per connection (default 128)",
       [](Config& c, const std::string& v) {
         c.limits.h2_max_concurrent_streams = static_cast<std::uint32_t>(parse_number("", v));
       }},
      {"limits.h2_stream_window", "request bytes buffered per HTTP/2 stream (default 262144)",
       window(&http::Limits::h2_stream_window)},
      {"limits.h2_connection_window", "request bytes buffered per HTTP/2 connection (default 1048576)",
       window(&http::Limits::h2_connection_window)},
      {"timeouts.idle_seconds", "close a connection with no exchange for this long (default 60)",
       seconds(&http::Limits::idle_timeout)},
      {"timeouts.header_seconds", "time allowed to send a request head (default 10)",
       seconds(&http::Limits::header_timeout)},
      {"timeouts.body_stall_seconds",
       "each this long spent awaiting a request body must bring limits.body_min_rate bytes/s (default 30)",
       seconds(&http::Limits::body_stall_timeout)},
      {"timeouts.body_seconds", "time allowed for a body read whole (signed JSON calls); over: 408 (default 20)",
       seconds(&http::Limits::body_timeout)},
      {"timeouts.linger_seconds", "draining unread request bytes before closing a connection (default 5)",
       seconds(&http::Limits::linger_timeout)},
      {"timeouts.write_stall_seconds", "a response write with no byte accepted for this long fails (default 30)",
       seconds(&http::Limits::write_stall_timeout)},
      {"timeouts.tls_handshake_seconds", "time allowed for the TLS handshake (default 10)",
       seconds(&http::Limits::tls_handshake_timeout)},
      {"ingest.max_fragment_bytes", "bytes of one fragment (Cluster); over: ERROR 4001 (default 52428800)",
       ingest(&media::IngestLimits::max_fragment_bytes)},
      {"ingest.max_fragment_duration_ms", "timecode span of one fragment; over: ERROR 4002 (default 20000)",
       ingest(&media::IngestLimits::max_fragment_duration_ms)},
      {"ingest.max_tracks", "tracks in a PutMedia body; more: ERROR 4005 (default 3)",
       ingest(&media::IngestLimits::max_tracks)},
      {"ingest.max_header_bytes", "EBML header + Info + Tracks of a body; over: ERROR 4006 (default 1048576)",
       ingest(&media::IngestLimits::max_header_bytes)},
      {"ingest.max_tags_bytes", "one Tags element; over: ERROR 4006 (default 1048576)",
       ingest(&media::IngestLimits::max_tags_bytes)},
      {"ingest.max_skipped_element_bytes",
       "one skipped Segment child (SeekHead, Cues, Void, ...); over: ERROR 4006 (default 1048576)",
       ingest(&media::IngestLimits::max_skipped_element_bytes)},
      {"ingest.max_metadata_items", "user metadata tags per fragment; more: ERROR 4009 (default 10)",
       ingest(&media::IngestLimits::max_metadata_items)},
      {"ingest.max_metadata_name_bytes", "bytes of a metadata name; over: ERROR 4009 (default 128)",
       ingest(&media::IngestLimits::max_metadata_name_bytes)},
      {"ingest.max_metadata_value_bytes", "bytes of a metadata value; over: ERROR 4009 (default 256)",
       ingest(&media::IngestLimits::max_metadata_value_bytes)},
      {"ingest.idle_ack_ms", "an IDLE ACK is sent after this long without body bytes or ACKs (default 3000)",
       integer(&Config::ingest_idle_ack_ms)},
      {"ingest.stage_part_bytes",
       "a fragment's bytes are written in parts as they arrive: 1 MiB, or this many when the last part left over "
       "10 ms ago; 0: only whole fragments (default 262144)",
       integer(&Config::ingest_stage_part_bytes)},
      {"read.get_media_per_stream", "concurrent GetMedia per stream; more: ConnectionLimitExceeded (default 3)",
       read_limit(&api::MediaReadLimits::get_media_per_stream)},
      {"read.get_media_idle_ms", "GetMedia ends after this long without a new fragment (default 3000)",
       [](Config& c, const std::string& v) {
         const double d = parse_number("", v);
         if (d < 100) throw std::invalid_argument("'" + v + "' must be at least 100");
         c.media_read.get_media_idle = std::chrono::milliseconds(static_cast<long long>(d));
       }},
      {"read.max_fragments_per_list_request", "GetMediaForFragmentList fragment numbers (default 1000)",
       read_limit(&api::MediaReadLimits::max_fragments_per_list_request)},
      {"read.clip_max_fragments", "fragments in one GetClip; more are cut (default 200)",
       read_limit(&api::MediaReadLimits::clip_max_fragments)},
      {"read.clip_max_bytes", "bytes of one GetClip MP4; more are cut (default 104857600)",
       read_limit(&api::MediaReadLimits::clip_max_bytes)},
      {"storage.min_free_bytes",
       "free disk space kept; a fragment that would go below it fails with ERROR 5001 (default 268435456)",
       integer(&Config::storage_min_free_bytes)},
      {"storage.index_reserve_bytes",
       "free disk space kept for the index: below it every write is refused (degraded mode: PutMedia ERROR 5001, "
       "control-plane writes ServiceUnavailableException) and at start the index opens read-only; fragments also "
       "stop at it when storage.min_free_bytes is lower (default 16777216)",
       integer(&Config::storage_index_reserve_bytes)},
      {"storage.disk_check_seconds",
       "how often free space is checked; degraded mode ends by itself once enough is free again (default 5)",
       [](Config& c, const std::string& v) {
         const double d = parse_number("", v);
         if (d < 1) throw std::invalid_argument("'" + v + "' must be at least 1");
         c.storage_disk_check_seconds = static_cast<std::int64_t>(d);
       }},
      {"storage.segment_max_bytes", "a stream's segment file is closed at this size (default 268435456)",
       integer(&Config::storage_segment_max_bytes)},
      {"storage.segment_max_age_seconds", "... or at this age, so retention frees whole files (default 3600)",
       integer(&Config::storage_segment_max_age_seconds)},
      {"storage.retention_sweep_seconds", "how often data past its retention is deleted (default 60)",
       integer(&Config::storage_retention_sweep_seconds)},
      {"storage.direct_io",
       "segment files are written with O_DIRECT, bypassing the page cache (buffered where the file system "
       "refuses it) (default true)",
       [](Config& c, const std::string& v) { c.storage_direct_io = parse_bool(v); }},
      {"metrics.token", "when set, GET /metrics needs Authorization: Bearer <token> (also KVSD_METRICS_TOKEN)",
       string(&Config::metrics_token)},
      {"shutdown.grace_seconds", "on SIGTERM/SIGINT, time in-flight exchanges get to finish (default 10)",
       [](Config& c, const std::string& v) {
         c.shutdown_grace = std::chrono::milliseconds(static_cast<long long>(parse_number("", v) * 1000.0));
       }},
      {"auth", "sigv4 (API calls must carry an AWS SigV4 signature) or none (no authentication) (default sigv4)",
       [](Config& c, const std::string& v) {
         if (v != "sigv4" && v != "none") throw std::invalid_argument("'" + v + "' is not sigv4 or none");
         c.auth = v;
       }},
      {"auth.mode", "same as auth, for the [auth] table of the TOML file",
       [](Config& c, const std::string& v) {
         if (v != "sigv4" && v != "none") throw std::invalid_argument("'" + v + "' is not sigv4 or none");
         c.auth = v;
       }},
      {"auth.check_region", "reject signatures scoped to a region other than `region` (default false)",
       [](Config& c, const std::string& v) { c.auth_check_region = parse_bool(v); }},
      {"region", "the AWS region kvsd reports in ARNs and endpoints (default us-west-2)", string(&Config::region)},
      {"account_id", "the AWS account id kvsd reports in ARNs (default 123456789012)",
       [](Config& c, const std::string& v) {
         if (v.size() != 12 || v.find_first_not_of("0123456789") != std::string::npos)
           throw std::invalid_argument("'" + v + "' is not a 12-digit account id");
         c.account_id = v;
       }},
      {"public_endpoint",
       "base URL GetDataEndpoint returns (e.g. https://kvs.example.com:8443); default: scheme and port of the "
       "listener the request came in on, host name from the request",
       [](Config& c, const std::string& v) {
         if (!v.empty() && v.rfind("http://", 0) != 0 && v.rfind("https://", 0) != 0)
           throw std::invalid_argument("'" + v + "' is not an http:// or https:// URL");
         c.public_endpoint = v;
       }},
      {"credentials.access_key_id",
       "access key id clients sign with (also KVSD_ACCESS_KEY_ID); without it a dev key pair is made under "
       "data_dir/credentials",
       string(&Config::access_key_id)},
      {"credentials.secret_access_key", "secret access key for credentials.access_key_id (also KVSD_SECRET_ACCESS_KEY)",
       string(&Config::secret_access_key)},
  };
  return k;
}

// Short environment names accepted besides the generic KVSD_<KEY> ones.
const std::vector<std::pair<std::string, std::string>>& env_aliases() {
  static const std::vector<std::pair<std::string, std::string>> a = {
      {"KVSD_ACCESS_KEY_ID", "credentials.access_key_id"},
      {"KVSD_SECRET_ACCESS_KEY", "credentials.secret_access_key"},
  };
  return a;
}

std::string flag_name(const std::string& key) {
  std::string f = "--";
  for (char ch : key) f += (ch == '.' || ch == '_') ? '-' : ch;
  return f;
}

std::string env_name(const std::string& key) {
  std::string e = "KVSD_";
  for (char ch : key) e += (ch == '.') ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return e;
}

void apply(Config& c, const Key& k, const std::string& value, const std::string& source) {
  try {
    k.set(c, value);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(source + ": " + k.name + ": " + e.what());
  }
}

std::string node_text(const toml::node& n, const std::string& key) {
  if (auto s = n.value<std::string>()) return *s;
  if (n.is_integer()) return std::to_string(*n.value<std::int64_t>());
  if (n.is_floating_point()) {
    std::ostringstream os;
    os << *n.value<double>();
    return os.str();
  }
  if (n.is_boolean()) return *n.value<bool>() ? "true" : "false";
  if (const auto* arr = n.as_array()) {
    std::string out;
    for (const auto& item : *arr) {
      if (!out.empty()) out += ',';
      out += node_text(item, key);
    }
    return out;
  }
  throw std::invalid_argument(key + ": unsupported value type");
}

void load_file(Config& c, const std::string& path) {
  toml::table tbl;
  try {
    tbl = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    std::ostringstream os;
    os << path << ": " << e.description() << " at line " << e.source().begin.line;
    throw std::invalid_argument(os.str());
  }
  auto find_key = [](const std::string& name) -> const Key* {
    for (const auto& k : keys()) {
      if (k.name == name) return &k;
    }
    return nullptr;
  };
  for (const auto& [name, node] : tbl) {
    const std::string top(name.str());
    if (const auto* section = node.as_table()) {
      for (const auto& [sub, value] : *section) {
        const std::string full = top + "." + std::string(sub.str());
        const Key* k = find_key(full);
        if (k == nullptr) throw std::invalid_argument(path + ": unknown key '" + full + "'");
        apply(c, *k, node_text(value, full), path);
      }
    } else {
      const Key* k = find_key(top);
      if (k == nullptr) throw std::invalid_argument(path + ": unknown key '" + top + "'");
      apply(c, *k, node_text(node, top), path);
    }
  }
}

}  // namespace

std::map<std::string, std::string> kvsd_environment() {
  std::map<std::string, std::string> out;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string kv(*e);
    if (kv.rfind("KVSD_", 0) != 0) continue;
    const auto eq = kv.find('=');
    if (eq != std::string::npos) out[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return out;
}

ConfigResult load_config(int argc, const char* const* argv, const std::map<std::string, std::string>& env) {
  ConfigResult r;
  // Pass 1: find --config / --help so the file is applied before env and flags.
  std::vector<std::pair<std::string, std::string>> flags;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      r.help = true;
      return r;
    }
    if (arg.rfind("--", 0) != 0) throw std::invalid_argument("unexpected argument '" + arg + "' (see --help)");
    std::string value;
    const auto eq = arg.find('=');
    if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    } else {
      if (i + 1 >= argc) throw std::invalid_argument(arg + " needs a value");
      value = argv[++i];
    }
    flags.emplace_back(arg, value);
  }

  Config& c = r.config;
  if (auto it = env.find("KVSD_CONFIG"); it != env.end()) c.config_path = it->second;
  for (const auto& [f, v] : flags) {
    if (f == "--config") c.config_path = v;
  }
  if (!c.config_path.empty()) load_file(c, c.config_path);

  // Short aliases first, so the generic names win when both are set.
  for (const auto& [alias, key] : env_aliases()) {
    if (auto it = env.find(alias); it != env.end()) {
      for (const auto& k : keys()) {
        if (k.name == key) apply(c, k, it->second, "environment " + alias);
      }
    }
  }
  for (const auto& [name, value] : env) {
    if (name == "KVSD_CONFIG") continue;
    for (const auto& k : keys()) {
      if (env_name(k.name) == name) apply(c, k, value, "environment " + name);
    }
  }
  for (const auto& [f, v] : flags) {
    if (f == "--config") continue;
    const Key* match = nullptr;
    for (const auto& k : keys()) {
      if (flag_name(k.name) == f) match = &k;
    }
    if (match == nullptr) throw std::invalid_argument("unknown flag " + f + " (see --help)");
    apply(c, *match, v, "flag " + f);
  }
  return r;
}

std::string config_help() {
  std::ostringstream os;
  os << "kvsd: a self-hosted Kinesis Video Streams-compatible media server\n\n"
     << "Usage: kvsd [--config FILE] [--KEY VALUE]...\n\n"
     << "Every key can be set in the TOML file, as a flag, or as an environment variable\n"
     << "(flags win over the environment, which wins over the file).\n\n"
     << "  --config FILE  (KVSD_CONFIG)\n      TOML configuration file, e.g. config/kvsd.toml\n";
  for (const auto& k : keys()) {
    os << "  " << flag_name(k.name) << " VALUE  (" << env_name(k.name) << ")\n      " << k.help << '\n';
  }
  os << "  --help\n      print this text\n";
  return os.str();
}

}  // namespace kvsd::app
