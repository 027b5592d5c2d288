#include "metrics/procfs/host_paths.h"

#include <linux/magic.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <string_view>

#include "metrics/procfs/read_file.h"

namespace hostiso {
namespace {

bool IsOwnProcfs(const std::string& procfs) {
  if (!IsProcfsMount(procfs)) return false;
  char link[64] = {};
  ssize_t n =
      ::readlink(JoinPath(procfs, "self").c_str(), link, sizeof(link) - 1);
  if (n <= 0) return false;
  return std::string_view(link, static_cast<std::size_t>(n)) ==
         std::to_string(::getpid());
}

}  // namespace

bool IsProcfsMount(const std::string& path) {
  struct statfs fs {};
  return ::statfs(path.c_str(), &fs) == 0 && fs.f_type == PROC_SUPER_MAGIC;
}

HostPaths HostPaths::Detect(std::string procfs, std::string sysfs,
                            std::string rootfs) {
  HostPaths p;
  p.procfs = std::move(procfs);
  p.sysfs = std::move(sysfs);
  p.rootfs = std::move(rootfs);
  p.own_pid_namespace = IsOwnProcfs(p.procfs);
  return p;
}

std::string HostPaths::Proc(const std::string& rel) const {
  return JoinPath(procfs, rel);
}

std::string HostPaths::Sys(const std::string& rel) const {
  return JoinPath(sysfs, rel);
}

double ClockTicksPerSecond() {
  // sysconf(_SC_CLK_TCK) is USER_HZ, the unit the kernel converts to in
  // /proc/stat and /proc/PID/stat; 100 on every Linux architecture today.
  static const double kTicks = [] {
    long hz = ::sysconf(_SC_CLK_TCK);
    return static_cast<double>(hz > 0 ? hz : 100);
  }();
  return kTicks;
}

std::uint64_t PageSizeBytes() {
  static const std::uint64_t kPage = [] {
    long ps = ::sysconf(_SC_PAGESIZE);
    return static_cast<std::uint64_t>(ps > 0 ? ps : 4096);
  }();
  return kPage;
}

}  // namespace hostiso
