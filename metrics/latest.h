#pragma once

#include <chrono>
#include <memory>
#include <optional>

#include "metrics/mutex.h"

namespace hostiso {

// The latest value a slow source produced and when: what a scrape serves
// from a worker, without ever waiting for it. Thread-safe.
template <typename T>
class Latest {
 public:
  using Clock = std::chrono::steady_clock;
  struct Entry {
    std::shared_ptr<const T> value;  // null until the first Publish
    Clock::time_point taken{};
    // Seconds since `taken`; nullopt without a value.
    std::optional<double> AgeSeconds(
        Clock::time_point now = Clock::now()) const {
      if (!value) return std::nullopt;
      return std::chrono::duration<double>(now - taken).count();
    }
  };

  void Publish(std::shared_ptr<const T> value,
               Clock::time_point taken = Clock::now()) EXCLUDES(mu_) {
    MutexLock lock(mu_);
    entry_.value = std::move(value);
    entry_.taken = taken;
  }
  void Publish(T value) {
    Publish(std::make_shared<const T>(std::move(value)));
  }
  Entry Get() const EXCLUDES(mu_) {
    MutexLock lock(mu_);
    return entry_;
  }

 private:
  mutable Mutex mu_;
  Entry entry_ GUARDED_BY(mu_);
};

}  // namespace hostiso
