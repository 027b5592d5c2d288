#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "metrics/expected.h"

namespace hostiso::log {

enum class Level { kDebug, kInfo, kWarn, kError };
enum class Format { kLogfmt, kJson };

// Configures the process-wide logger (stderr). Safe to call once at start-up;
// before it, messages go to stderr at info level in logfmt.
void Configure(Level level, Format format);
Expected<Level> ParseLevel(std::string_view text);
Expected<Format> ParseFormat(std::string_view text);

using Field = std::pair<std::string_view, std::string_view>;

// Writes one line: ts, level, msg and the given key/value fields, escaped for
// logfmt or JSON. Thread-safe.
void Write(Level level, std::string_view msg,
           std::initializer_list<Field> fields = {});
inline void Debug(std::string_view m, std::initializer_list<Field> f = {}) {
  Write(Level::kDebug, m, f);
}
inline void Info(std::string_view m, std::initializer_list<Field> f = {}) {
  Write(Level::kInfo, m, f);
}
inline void Warn(std::string_view m, std::initializer_list<Field> f = {}) {
  Write(Level::kWarn, m, f);
}
inline void Error(std::string_view m, std::initializer_list<Field> f = {}) {
  Write(Level::kError, m, f);
}

// Logs a failure once per distinct error and the recovery once, so a source
// that stays broken does not flood the log at every scrape. Not thread-safe:
// its owner serializes the calls (a worker's own thread, or a member
// GUARDED_BY the owner's mutex).
class ErrorLatch {
 public:
  explicit ErrorLatch(std::string what) : what_(std::move(what)) {}
  void Fail(const std::string& error);
  void Ok();

 private:
  std::string what_;
  std::string last_error_;
  bool failing_ = false;
};

}  // namespace hostiso::log
