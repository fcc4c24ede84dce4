// kvsd-testserver: the kvsd binary plus the /_test/* routes, for integration tests and benchmarks.
#include <spdlog/spdlog.h>

#include <cstdio>
#include <exception>

#include "app/app.hpp"
#include "app/config.hpp"
#include "fragment_routes.hpp"
#include "obs/logging.hpp"
#include "test_routes.hpp"

int main(int argc, char** argv) {
  try {
    auto cfg = kvsd::app::load_config(argc, argv, kvsd::app::kvsd_environment());
    if (cfg.help) {
      std::fputs(kvsd::app::config_help().c_str(), stdout);
      return 0;
    }
    kvsd::obs::setup_logging(cfg.config.log_level);
    kvsd::app::App app(std::move(cfg.config));
    kvsd::testing::add_test_routes(app.router(), app.auth());
    kvsd::testing::add_fragment_routes(app.router(), app);
    return app.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kvsd-testserver: %s\n", e.what());
    return 1;
  }
}
