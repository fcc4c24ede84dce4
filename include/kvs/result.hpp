#pragma once
// kvs::Result<T>: what every fallible call of the core returns (a small std::expected), and
// kvs::Status = Result<Unit> for calls with no value.

#include <utility>
#include <variant>

#include "kvs/error.hpp"

namespace kvs {

// A value or a kvs::Error. [[nodiscard]]: a result must be looked at (a dropped Status is a
// failure nobody hears of).
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)
  [[nodiscard]] bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T& operator*() { return value(); }
  T* operator->() { return &value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

struct Unit {};
using Status = Result<Unit>;

}  // namespace kvs
