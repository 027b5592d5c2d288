#pragma once

#include <string>
#include <utility>
#include <variant>

namespace hostiso {

// A value or a human-readable error. C++20 has no std::expected; this is the
// small subset the parsers need. Errors name the input and what was expected.
template <typename T>
class Expected {
 public:
  Expected(T value) : state_(std::move(value)) {}  // NOLINT: implicit by design
  static Expected Error(std::string message) {
    Expected e;
    e.state_ = ErrorText{std::move(message)};
    return e;
  }

  bool ok() const { return std::holds_alternative<T>(state_); }
  explicit operator bool() const { return ok(); }
  const T& value() const& { return std::get<T>(state_); }
  T& value() & { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }
  const T& operator*() const& { return value(); }
  const T* operator->() const { return &value(); }
  const std::string& error() const { return std::get<ErrorText>(state_).text; }

 private:
  struct ErrorText {
    std::string text;
  };
  Expected() = default;
  std::variant<T, ErrorText> state_;
};

}  // namespace hostiso
