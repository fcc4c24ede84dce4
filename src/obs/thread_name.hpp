#pragma once
// name_this_thread: gives the calling thread a name that top -H, ps -L, perf and gdb show
// (/proc/<pid>/task/<tid>/comm), so an operator can tell which of kvsd's threads is busy. Linux
// keeps 15 bytes of a name; longer names are cut to that. Best effort: a failure changes nothing.
// The main thread is never renamed (its name is the process's, which pgrep and ps match).
// Header-only, so libraries that do not link kvsd_obs (storage) can use it.

#include <pthread.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace kvsd::obs {

inline constexpr std::size_t kMaxThreadNameBytes = 15;

inline void name_this_thread(std::string_view name) {
  const std::string cut(name.substr(0, kMaxThreadNameBytes));
  (void)::pthread_setname_np(::pthread_self(), cut.c_str());
}

}  // namespace kvsd::obs
