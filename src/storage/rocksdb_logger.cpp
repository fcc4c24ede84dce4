#include "storage/rocksdb_logger.hpp"

#include <rocksdb/env.h>
#include <spdlog/spdlog.h>

#include <cstdarg>
#include <cstdio>
#include <string>

namespace kvsd::storage {

namespace {

class RocksDbLogger final : public rocksdb::Logger {
 public:
  explicit RocksDbLogger(rocksdb::InfoLogLevel level) : rocksdb::Logger(level) {}

  void Logv(const char* format, va_list ap) override { Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap); }

  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    if (level < GetInfoLogLevel()) return;
    const auto spd = to_spdlog(level);
    if (!spdlog::should_log(spd)) return;
    char small[512];
    va_list copy;
    va_copy(copy, ap);
    const int n = std::vsnprintf(small, sizeof small, format, copy);
    va_end(copy);
    if (n < 0) return;
    std::string text;
    if (static_cast<std::size_t>(n) < sizeof small) {
      text.assign(small, static_cast<std::size_t>(n));
    } else {
      text.resize(static_cast<std::size_t>(n) + 1);
      std::vsnprintf(text.data(), text.size(), format, ap);
      text.resize(static_cast<std::size_t>(n));
    }
    spdlog::log(spd, "rocksdb: {}", text);
  }

 private:
  static spdlog::level::level_enum to_spdlog(rocksdb::InfoLogLevel level) {
    switch (level) {
      case rocksdb::InfoLogLevel::WARN_LEVEL:
        return spdlog::level::warn;
      case rocksdb::InfoLogLevel::ERROR_LEVEL:
      case rocksdb::InfoLogLevel::FATAL_LEVEL:
        return spdlog::level::err;
      default:
        return spdlog::level::trace;
    }
  }
};

}  // namespace

std::shared_ptr<rocksdb::Logger> make_rocksdb_logger() {
  const auto level =
      spdlog::should_log(spdlog::level::trace) ? rocksdb::InfoLogLevel::DEBUG_LEVEL : rocksdb::InfoLogLevel::WARN_LEVEL;
  return std::make_shared<RocksDbLogger>(level);
}

}  // namespace kvsd::storage
