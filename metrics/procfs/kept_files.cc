#include "metrics/procfs/kept_files.h"

#include <sys/resource.h>

#include <cerrno>
#include <utility>

namespace hostiso {

ssize_t KeptProcFiles::ReadKept(const Key& key, char* buf, std::size_t cap) {
  auto it = files_.find(key);
  if (it == files_.end()) return 0;
  const ssize_t n = PreadSmallFile(it->second.fd.get(), buf, cap);
  if (n > 0) {
    it->second.read_in = generation_;
    return n;
  }
  // The thread exited (ESRCH), or the file reads empty: opened afresh.
  files_.erase(it);
  return 0;
}

ssize_t KeptProcFiles::ReadAndKeep(const Key& key, UniqueFd fd, char* buf,
                                   std::size_t cap) {
  const ssize_t n = PreadSmallFile(fd.get(), buf, cap);
  const int saved = errno;
  if (n > 0 && files_.size() < max_files_)
    files_.emplace(key, Kept{std::move(fd), generation_});
  errno = saved;
  return n;
}

void KeptProcFiles::Sweep() {
  for (auto it = files_.begin(); it != files_.end();) {
    if (it->second.read_in != generation_) {
      it = files_.erase(it);
    } else {
      ++it;
    }
  }
  ++generation_;
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
