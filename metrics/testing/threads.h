#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

namespace hostiso::testing {

// Waits (at most 5 s) until thread `tid` of this process is released by the
// kernel; true once it is. std::thread::join returns when the kernel clears
// the thread's tid at exit (exit_mm), before release_task unhashes the task:
// until then its /proc files still read (a CI run under load read a joined
// thread's schedstat once more). Gone from /proc/self/task means released.
inline bool WaitUntilThreadReleased(pid_t tid) {
  const std::string dir = "/proc/self/task/" + std::to_string(tid);
  for (int i = 0; i < 5000 && std::filesystem::exists(dir); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return !std::filesystem::exists(dir);
}

}  // namespace hostiso::testing
