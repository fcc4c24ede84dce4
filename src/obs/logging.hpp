#pragma once
// Process-wide logging setup (spdlog to stderr). Call once, before any other thread starts.

#include <string>

namespace kvsd::obs {

// Accepts trace, debug, info, warn, error, critical, off. Throws std::invalid_argument otherwise.
void setup_logging(const std::string& level);

}  // namespace kvsd::obs
