#include "metrics/procfs/kept_files.h"

#include <linux/magic.h>
#include <sys/resource.h>
#include <sys/vfs.h>

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

Expected<std::string_view> KeptKernfsFiles::Read(const std::string& path,
                                                 char* buf, std::size_t cap) {
  if (auto it = files_.find(path); it != files_.end()) {
    const ssize_t n = PreadSmallFile(it->second.fd.get(), buf, cap);
    if (n > 0) {
      it->second.read_in = generation_;
      return std::string_view(buf, static_cast<std::size_t>(n));
    }
    // Removed (ENODEV), grown past `cap`, or empty: opened afresh, so the
    // error (or the empty text) is the one a new open gives.
    files_.erase(it);
  }
  if (keep_ == KeepFiles::kNever || files_.size() >= max_files_)
    return ReadSmallFile(path.c_str(), buf, cap);
  UniqueFd fd;
  auto text = ReadSmallFile(path.c_str(), buf, cap, &fd);
  if (text && fd.valid() && MayKeep(fd.get()))
    files_.emplace(path, Kept{std::move(fd), generation_});
  return text;
}

bool KeptKernfsFiles::MayKeep(int fd) const {
  if (keep_ == KeepFiles::kAlways) return true;
  struct statfs fs {};
  if (::fstatfs(fd, &fs) != 0) return false;
  return fs.f_type == SYSFS_MAGIC || fs.f_type == CGROUP_SUPER_MAGIC ||
         fs.f_type == CGROUP2_SUPER_MAGIC;
}

void KeptKernfsFiles::Sweep() {
  std::erase_if(files_, [this](const auto& entry) {
    return entry.second.read_in != generation_;
  });
  ++generation_;
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
