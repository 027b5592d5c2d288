#include "metrics/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>

#include "metrics/mutex.h"
#include "metrics/text.h"

namespace hostiso::log {
namespace {

// The process-wide logger. Every thread logs (workers, HTTP threads): the
// configuration is read and each line written under `mu`, so lines never
// interleave (the sink itself is unlocked).
struct State {
  State()
      : logger(std::make_shared<spdlog::logger>(
            "hostiso", std::make_shared<spdlog::sinks::stderr_sink_st>())) {
    logger->set_pattern("%v");
    logger->set_level(spdlog::level::trace);
    logger->flush_on(spdlog::level::trace);
  }
  Mutex mu;
  Level level GUARDED_BY(mu) = Level::kInfo;
  Format format GUARDED_BY(mu) = Format::kLogfmt;
  std::shared_ptr<spdlog::logger> logger GUARDED_BY(mu);
};

State& GetState() {
  static State state;
  return state;
}

std::string_view LevelName(Level l) {
  switch (l) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}

void AppendLogfmtValue(std::string& out, std::string_view s) {
  bool needs_quotes = s.empty();
  for (char c : s) {
    if (c == ' ' || c == '=' || c == '"' ||
        static_cast<unsigned char>(c) < 0x20) {
      needs_quotes = true;
      break;
    }
  }
  if (!needs_quotes) {
    out += s;
    return;
  }
  AppendJsonString(out, s);  // logfmt quoting uses the same escapes
}

std::string Timestamp() {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                now.time_since_epoch())
                .count() %
            1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

}  // namespace

void Configure(Level level, Format format) {
  State& s = GetState();
  MutexLock lock(s.mu);
  s.level = level;
  s.format = format;
}

Expected<Level> ParseLevel(std::string_view text) {
  for (Level l : {Level::kDebug, Level::kInfo, Level::kWarn, Level::kError}) {
    if (text == LevelName(l)) return l;
  }
  return ::hostiso::Error("expected debug, info, warn or error, got '" +
                          std::string(text) + "'");
}

Expected<Format> ParseFormat(std::string_view text) {
  if (text == "logfmt") return Format::kLogfmt;
  if (text == "json") return Format::kJson;
  return ::hostiso::Error("expected logfmt or json, got '" + std::string(text) +
                          "'");
}

void Write(Level level, std::string_view msg,
           std::initializer_list<Field> fields) {
  State& s = GetState();
  Level min_level;
  Format format;
  {
    MutexLock lock(s.mu);
    min_level = s.level;
    format = s.format;
  }
  if (level < min_level) return;
  std::string line;
  line.reserve(128);
  if (format == Format::kJson) {
    line += "{\"ts\":";
    AppendJsonString(line, Timestamp());
    line += ",\"level\":";
    AppendJsonString(line, LevelName(level));
    line += ",\"msg\":";
    AppendJsonString(line, msg);
    for (const auto& [k, v] : fields) {
      line += ',';
      AppendJsonString(line, k);
      line += ':';
      AppendJsonString(line, v);
    }
    line += '}';
  } else {
    line += "ts=" + Timestamp() + " level=";
    line += LevelName(level);
    line += " msg=";
    AppendLogfmtValue(line, msg);
    for (const auto& [k, v] : fields) {
      line += ' ';
      line += k;
      line += '=';
      AppendLogfmtValue(line, v);
    }
  }
  MutexLock lock(s.mu);
  s.logger->info(line);
}

void ErrorLatch::Fail(const std::string& error) {
  if (failing_ && error == last_error_) return;
  failing_ = true;
  last_error_ = error;
  Error(what_ + " failed", {{"err", error}});
}

void ErrorLatch::Ok() {
  if (!failing_) return;
  failing_ = false;
  last_error_.clear();
  Info(what_ + " recovered");
}

}  // namespace hostiso::log
