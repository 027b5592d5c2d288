#include "metrics/procfs/kept_files.h"

#include <linux/magic.h>
#include <sys/resource.h>
#include <sys/vfs.h>

#include <cerrno>
#include <utility>

namespace hostiso {

Expected<std::string_view> KeptKernfsFiles::Read(const std::string& path,
                                                 char* buf, std::size_t cap) {
  // A kept read that fails (removed: ENODEV; grown past `cap`; empty) drops
  // the descriptor; the path is then opened afresh, so the error (or the
  // empty text) is the one a new open gives.
  if (const ssize_t n = files_.ReadKept(path, buf, cap); n > 0)
    return std::string_view(buf, static_cast<std::size_t>(n));
  UniqueFd fd;
  auto text = ReadSmallFile(path.c_str(), buf, cap, &fd);
  if (text && fd.valid() && MayKeep(fd.get())) files_.Keep(path, std::move(fd));
  return text;
}

bool KeptKernfsFiles::MayKeep(int fd) const {
  if (keep_ != KeepFiles::kOnKernelFs) return keep_ == KeepFiles::kAlways;
  struct statfs fs {};
  if (::fstatfs(fd, &fs) != 0) return false;
  return fs.f_type == SYSFS_MAGIC || fs.f_type == CGROUP_SUPER_MAGIC ||
         fs.f_type == CGROUP2_SUPER_MAGIC;
}

Expected<std::string_view> ReadKernfsFile(KeptKernfsFiles* kept,
                                          const std::string& path, char* buf,
                                          std::size_t cap) {
  if (kept == nullptr) return ReadSmallFile(path.c_str(), buf, cap);
  return kept->Read(path, buf, cap);
}

std::size_t KeptProcFileBudget() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur == RLIM_INFINITY)
    return 0;
  return static_cast<std::size_t>(lim.rlim_cur / 2);
}

void RaiseOpenFileLimit() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur >= lim.rlim_max)
    return;
  lim.rlim_cur = lim.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &lim);
}

}  // namespace hostiso
