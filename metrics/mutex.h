#pragma once

#include <condition_variable>
#include <mutex>

// Clang's thread-safety analysis (-Wthread-safety): members say which mutex
// guards them, functions say which they need, and the clang build checks it
// (scripts/lint.sh runs clang-tidy with -Wthread-safety). GCC ignores them.
#if defined(__clang__)
#define HOSTISO_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define HOSTISO_THREAD_ANNOTATION(x)
#endif
#define CAPABILITY(x) HOSTISO_THREAD_ANNOTATION(capability(x))
#define SCOPED_CAPABILITY HOSTISO_THREAD_ANNOTATION(scoped_lockable)
#define GUARDED_BY(x) HOSTISO_THREAD_ANNOTATION(guarded_by(x))
#define PT_GUARDED_BY(x) HOSTISO_THREAD_ANNOTATION(pt_guarded_by(x))
#define REQUIRES(...) \
  HOSTISO_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define EXCLUDES(...) HOSTISO_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define ACQUIRE(...) HOSTISO_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define RELEASE(...) HOSTISO_THREAD_ANNOTATION(release_capability(__VA_ARGS__))

namespace hostiso {

// std::mutex with the annotations above (libstdc++'s mutex has none).
class CAPABILITY("mutex") Mutex {
 public:
  void Lock() ACQUIRE() { mu_.lock(); }
  void Unlock() RELEASE() { mu_.unlock(); }
  // BasicLockable, for std::condition_variable_any.
  void lock() ACQUIRE() { mu_.lock(); }
  void unlock() RELEASE() { mu_.unlock(); }

 private:
  std::mutex mu_;
};

// Holds a Mutex for a scope.
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) ACQUIRE(mu) : mu_(mu) { mu_.Lock(); }
  ~MutexLock() RELEASE() { mu_.Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex& mu_;
};

// Waits on a Mutex the caller holds (through MutexLock).
using CondVar = std::condition_variable_any;

}  // namespace hostiso
