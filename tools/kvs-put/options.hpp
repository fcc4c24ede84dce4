#pragma once
// Command line of kvs-put and where its credentials come from. parse_options never exits; it
// reports problems as text for main() to print with the usage.

#include <optional>
#include <string>

namespace kvsput {

enum class TimecodeType { absolute, relative };

struct Options {
  std::string endpoint;  // control plane base URL, http:// or https://
  std::string stream;
  std::string input;           // file path, "-" for stdin; empty with --pattern
  double pattern_seconds = 0;  // > 0: generated test pattern of this length
  bool audio = false;          // --pattern: add an AAC sine track
  bool realtime = false;       // pace frames by their timestamps
  double max_rate_mbps = 0;    // > 0: frames sent no faster than this many MB/s (1 MB = 10^6 bytes)
  bool preload = false;        // read the whole input before connecting (measures the server, not the demuxer)
  int streams = 1;             // parallel producers NAME-0..NAME-(N-1) when > 1
  double stagger_seconds = 0;  // producer i starts i * stagger / N seconds late (not in lockstep)
  int retention_hours = 2;     // CreateStream DataRetentionInHours
  std::string ca;              // PEM file of trusted CAs (https)
  std::string region;          // SigV4 region
  std::string access_key, secret_key, session_token;
  std::string credentials_file;  // kvsd dev credentials file (TOML lines)
  TimecodeType timecode_type = TimecodeType::absolute;
  bool eofr = false;  // END_OF_FRAGMENT Tags after every fragment
  std::string summary_json;
  std::string dump;  // write the exact MKV body of producer 0 here
  bool quiet = false;
  double ack_timeout_seconds = 30;  // wait for the last PERSISTED at the end of an upload
};

std::string usage();

// Parses argv; on error returns nullopt and sets `error`. Fills region and credentials from the
// environment / credentials file when the flags do not give them.
std::optional<Options> parse_options(int argc, char** argv, std::string& error);

}  // namespace kvsput
