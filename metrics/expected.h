#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace hostiso {

// The one error type of the project: a human-readable message that names the
// input (file, line, key) and what was expected. It converts into any
// Expected<T>, so an error travels up without re-wrapping:
//
//   Expected<CpuSet> ReadList(const std::string& path) {
//     HOSTISO_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
//     return ParseCpuList(text);
//   }
class Error {
 public:
  explicit Error(std::string message, int code = 0)
      : message_(std::move(message)), code_(code) {}
  const std::string& message() const { return message_; }
  // The errno of a failed system call (ENOENT: the file does not exist), or
  // 0 for errors of content.
  int code() const { return code_; }
  // "context: message", for adding the path or step an error happened in.
  Error WithContext(std::string_view context) const {
    std::string out(context);
    out += ": ";
    out += message_;
    return Error(std::move(out), code_);
  }

 private:
  std::string message_;
  int code_ = 0;
};

// A value or an Error. C++20 has no std::expected; this is the subset the
// project needs.
template <typename T>
class Expected {
 public:
  Expected(T value) : state_(std::move(value)) {}  // NOLINT: implicit by design
  Expected(::hostiso::Error error)                 // NOLINT: implicit by design
      : state_(std::move(error)) {}
  // Same as constructing from Error(message).
  static Expected Error(std::string message) {
    return Expected(::hostiso::Error(std::move(message)));
  }

  bool ok() const { return std::holds_alternative<T>(state_); }
  explicit operator bool() const { return ok(); }
  const T& value() const& { return std::get<T>(state_); }
  T& value() & { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }
  const std::string& error() const {
    return std::get<::hostiso::Error>(state_).message();
  }
  // The error itself, to return from a function of another Expected type.
  const ::hostiso::Error& failure() const {
    return std::get<::hostiso::Error>(state_);
  }
  // This value, or the error with "context: " in front (the path it came
  // from).
  Expected WithContext(std::string_view context) && {
    if (ok()) return std::move(*this);
    return failure().WithContext(context);
  }

 private:
  std::variant<T, ::hostiso::Error> state_;
};

// Success or an Error, for operations that produce no value.
template <>
class Expected<void> {
 public:
  Expected() = default;
  Expected(::hostiso::Error error)  // NOLINT: implicit by design
      : error_(std::move(error)), failed_(true) {}
  static Expected Error(std::string message) {
    return Expected(::hostiso::Error(std::move(message)));
  }

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const std::string& error() const { return error_.message(); }
  const ::hostiso::Error& failure() const { return error_; }

 private:
  ::hostiso::Error error_{""};
  bool failed_ = false;
};

inline Expected<void> Ok() { return {}; }

}  // namespace hostiso

#define HOSTISO_CONCAT_INNER(a, b) a##b
#define HOSTISO_CONCAT(a, b) HOSTISO_CONCAT_INNER(a, b)

// Evaluates `expr` (an Expected<T>); on error returns its Error from the
// enclosing function (which returns any Expected<U>), else assigns the value to
// `lhs` (a declaration or an lvalue).
#define HOSTISO_ASSIGN_OR_RETURN(lhs, expr)                                  \
  HOSTISO_ASSIGN_OR_RETURN_IMPL(HOSTISO_CONCAT(hostiso_try_, __LINE__), lhs, \
                                expr)
#define HOSTISO_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp) return tmp.failure();                     \
  lhs = std::move(tmp).value()

// Evaluates `expr` (an Expected<void> or any Expected<T>); on error returns
// its Error from the enclosing function.
#define HOSTISO_RETURN_IF_ERROR(expr)                       \
  do {                                                      \
    auto hostiso_status_ = (expr);                          \
    if (!hostiso_status_) return hostiso_status_.failure(); \
  } while (false)
