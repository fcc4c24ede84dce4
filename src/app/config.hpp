#pragma once
// Config: every setting of kvsd. Sources, later ones winning: built-in defaults, the TOML file
// given by --config (or KVSD_CONFIG), KVSD_* environment variables, command-line flags.
// A key `section.name_part` is `--section-name-part` as a flag and `KVSD_SECTION_NAME_PART` in
// the environment. config/kvsd.toml documents every key.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "api/media_read_limits.hpp"
#include "http/limits.hpp"
#include "media/mkv_ingest_parser.hpp"

namespace kvsd::app {

struct Config {
  std::string config_path;
  std::string data_dir = "./data";
  std::string http = "127.0.0.1:8080";   // empty: no cleartext listener
  std::string https = "127.0.0.1:8443";  // empty: no TLS listener
  std::string tls_cert;                  // PEM chain; with tls_key, replaces the dev certificate
  std::string tls_key;
  std::vector<std::string> tls_names;  // extra names/addresses for the dev certificate
  bool tls_h2 = true;                  // offer h2 in ALPN
  std::string log_level = "info";
  bool access_log = true;  // one info line per request
  unsigned threads = 0;    // I/O threads; 0: one per core
  http::Limits limits;
  std::chrono::milliseconds shutdown_grace{10'000};
  std::string metrics_token;  // metrics.token: empty, /metrics is open
  // Authentication: "sigv4" (every KVS API call must be signed) or "none" (development only).
  std::string auth = "sigv4";
  bool auth_check_region = false;  // reject a signature scoped to another region than `region`
  std::string region = "us-west-2";
  std::string account_id = "123456789012";
  // GetDataEndpoint answer (e.g. https://kvs.example.com); empty: the scheme of the listener the
  // request came in on, the request's host name and the listener's port.
  std::string public_endpoint;
  // One access key pair; both empty: a dev pair is made under <data_dir>/credentials.
  std::string access_key_id;
  std::string secret_access_key;
  // [ingest]: limits on PutMedia bodies (the ERROR ACK ids are in media::IngestLimits).
  media::IngestLimits ingest;
  std::int64_t ingest_idle_ack_ms = 3'000;            // IDLE ACK after this long without data
  std::int64_t ingest_stage_part_bytes = 256 * 1024;  // api::PutMediaContext::stage_part_bytes
  // [read]: limits of GetMedia, GetMediaForFragmentList and GetClip.
  api::MediaReadLimits media_read;
  // [storage]
  std::uint64_t storage_min_free_bytes = 256ull << 20;      // below: fragments fail (5001)
  std::uint64_t storage_index_reserve_bytes = 16ull << 20;  // below: every write refused (degraded mode)
  std::int64_t storage_disk_check_seconds = 5;              // free space check; resumes writes
  std::uint64_t storage_segment_max_bytes = 256ull << 20;   // a segment file is rolled at this size
  std::int64_t storage_segment_max_age_seconds = 3'600;     // ... or at this age
  std::int64_t storage_retention_sweep_seconds = 60;        // how often expired data is deleted
  bool storage_direct_io = true;                            // segment appends bypass the page cache
};

// Result of parsing the command line: either a config or a request to print help.
struct ConfigResult {
  Config config;
  bool help = false;
};

// Throws std::invalid_argument with a message naming the key and source on any bad input.
ConfigResult load_config(int argc, const char* const* argv, const std::map<std::string, std::string>& env);
// Collects the process environment's KVSD_* variables. Besides the generic names, the short
// KVSD_ACCESS_KEY_ID / KVSD_SECRET_ACCESS_KEY are accepted for credentials.access_key_id /
// credentials.secret_access_key (the generic names win when both are set).
std::map<std::string, std::string> kvsd_environment();
std::string config_help();

}  // namespace kvsd::app
