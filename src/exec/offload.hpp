#pragma once
// offload(): runs blocking work (RocksDB, fsync, FFmpeg) on a thread pool and resumes the
// calling coroutine on its own executor (its strand), never on a pool thread. The one helper
// for getting blocking work off the I/O threads.
//
// `fn` must be callable once with no arguments; its return value (not void) is moved back to
// the caller. An exception thrown by `fn` is rethrown in the caller.

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

namespace kvsd::exec {

template <class Fn>
boost::asio::awaitable<std::invoke_result_t<Fn&>> offload(boost::asio::thread_pool& pool, Fn fn) {
  using T = std::invoke_result_t<Fn&>;
  static_assert(!std::is_void_v<T>, "offload: return a value (e.g. a status) from the work");
  auto caller = co_await boost::asio::this_coro::executor;
  std::optional<T> out;
  std::exception_ptr failure;
  auto initiate = [&pool, &fn, &out, &failure, caller](auto handler) mutable {
    boost::asio::post(pool, [&fn, &out, &failure, caller, h = std::move(handler)]() mutable {
      try {
        out.emplace(fn());
      } catch (...) {
        failure = std::current_exception();
      }
      boost::asio::dispatch(caller, std::move(h));
    });
  };
  co_await boost::asio::async_initiate<decltype(boost::asio::use_awaitable), void()>(initiate,
                                                                                     boost::asio::use_awaitable);
  if (failure) std::rethrow_exception(failure);
  co_return std::move(*out);
}

}  // namespace kvsd::exec
