// kvsd entry point: flags and config -> App -> run.
#include <malloc.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <exception>

#include "app/app.hpp"
#include "app/config.hpp"
#include "obs/logging.hpp"

int main(int argc, char** argv) {
  // Fragments, clusters and generated segments are buffers of 100 KB to 50 MB made and freed on
  // every request. Keep them on the heap and keep freed heap memory: with glibc's defaults each
  // large buffer is a fresh mmap whose pages fault in and are zeroed on every request.
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  kvsd::app::ConfigResult cfg;
  try {
    cfg = kvsd::app::load_config(argc, argv, kvsd::app::kvsd_environment());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kvsd: %s\n", e.what());
    return 2;
  }
  if (cfg.help) {
    std::fputs(kvsd::app::config_help().c_str(), stdout);
    return 0;
  }
  try {
    kvsd::obs::setup_logging(cfg.config.log_level);
    kvsd::app::App app(std::move(cfg.config));
    return app.run();
  } catch (const std::exception& e) {
    spdlog::critical("kvsd cannot start: {}", e.what());
    return 1;
  }
}
