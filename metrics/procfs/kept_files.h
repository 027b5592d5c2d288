#pragma once

#include <sys/types.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "metrics/procfs/read_file.h"

namespace hostiso {

// Whether kernel files stay open across scrapes: on a real kernel filesystem
// only (kOnKernelFs: procfs for the per-task files, sysfs and cgroupfs for the
// attribute files), also on a fixture tree whose files are rewritten in place
// and never replaced (kAlways: benchmarks), or never.
enum class KeepFiles { kOnKernelFs, kAlways, kNever };

namespace detail {
// One kept descriptor and the sweep generation of its last read.
struct KeptFd {
  UniqueFd fd;
  std::uint64_t read_in = 0;
};

// The descriptors of one cache of kept files, by key (Map: Key -> KeptFd):
// read through with pread at offset 0, kept up to a budget, and swept.
template <typename Map>
class KeptFds {
 public:
  using Key = typename Map::key_type;
  explicit KeptFds(std::size_t max_files) : max_files_(max_files) {}

  // Through the kept descriptor of `key`: the length, or 0 when there is
  // none or it failed (then it is closed).
  ssize_t ReadKept(const Key& key, char* buf, std::size_t cap) {
    auto it = files_.find(key);
    if (it == files_.end()) return 0;
    const ssize_t n = PreadSmallFile(it->second.fd.get(), buf, cap);
    if (n > 0) {
      it->second.read_in = generation_;
      return n;
    }
    files_.erase(it);
    return 0;
  }

  // Keeps `fd`, just read, for `key`; beyond the budget it is closed.
  void Keep(const Key& key, UniqueFd fd) {
    if (files_.size() < max_files_)
      files_.emplace(key, KeptFd{std::move(fd), generation_});
  }

  // Closes the descriptors not read since the previous Sweep.
  void Sweep() {
    std::erase_if(files_, [this](const auto& entry) {
      return entry.second.read_in != generation_;
    });
    ++generation_;
  }

  std::size_t Size() const { return files_.size(); }

 private:
  std::size_t max_files_;
  std::uint64_t generation_ = 0;
  Map files_;
};
}  // namespace detail

// Descriptors of per-task /proc files kept open across scrapes and read again
// with pread at offset 0. procfs builds a seq_file's text afresh at offset 0,
// so a kept descriptor reads what a new open would, without the path walk,
// the open and the close: one system call per file instead of three, and no
// dentry lookups (the largest kernel cost of a scrape of 4,000 vCPU threads
// under perf). A descriptor refers to its task, not to the task's id: once
// the thread exits, reads fail (ESRCH), so a thread that reuses the id is
// never read through it; it is then opened again by its path.
// Only for a real procfs: a regular file (a fixture tree) that is replaced or
// deleted stays readable through an old descriptor.
// Not thread-safe: one scrape at a time.
class KeptProcFiles {
 public:
  enum class File { kStatm, kSchedstat, kStat };
  // Keeps at most `max_files` descriptors; files beyond are opened, read and
  // closed at each read, as without this cache.
  explicit KeptProcFiles(std::size_t max_files) : files_(max_files) {}

  // Reads `file` of thread `tid` of process `pid` (statm: tid = pid) into
  // `buf` (at most `cap` bytes, as ReadSmallFileAt): through its kept
  // descriptor, or else through the UniqueFd `open()` returns (invalid when
  // the file cannot be opened), which is then kept. Returns the length, or
  // -1 with errno set.
  template <typename Open>
  ssize_t Read(pid_t pid, pid_t tid, File file, const Open& open, char* buf,
               std::size_t cap) {
    const Key key{pid, tid, file};
    if (const ssize_t n = files_.ReadKept(key, buf, cap); n > 0) return n;
    UniqueFd fd = open();
    if (!fd.valid()) return -1;
    const ssize_t n = PreadSmallFile(fd.get(), buf, cap);
    if (n > 0) {
      files_.Keep(key, std::move(fd));
      return n;
    }
    const int read_errno = errno;  // closing the descriptor must not mask it
    fd = UniqueFd();
    errno = read_errno;
    return n;
  }

  // Closes the descriptors not read since the previous Sweep (threads that
  // left the inventory or exited).
  void Sweep() { files_.Sweep(); }

  std::size_t Size() const { return files_.Size(); }

 private:
  using Key = std::tuple<pid_t, pid_t, File>;
  detail::KeptFds<std::map<Key, detail::KeptFd>> files_;
};

// The sysfs and cgroupfs attribute files read at every scrape (a NUMA node's
// meminfo and huge page counters, a slice's cpuset and CPU time), kept open
// across scrapes and read again with pread at offset 0, as KeptProcFiles does
// for procfs: kernfs calls the attribute's show() afresh at offset 0, so the
// kept descriptor reads what a new open would, in one system call instead of
// three and without the walk of a path of ten or more components.
// A descriptor refers to its kernfs node, not to its path: once the node is
// removed (a slice, a hot-removed node), reads fail (ENODEV) and the path is
// opened again, so a directory created again under the same name is read
// afresh. (A cgroup v1 directory renamed by root would be read under its old
// name until the next failure; systemd and libvirt never rename theirs.)
// With kOnKernelFs a file is kept only when fstatfs says sysfs, cgroup or
// cgroup2: on a fixture tree a replaced or deleted regular file would stay
// readable through an old descriptor.
// Not thread-safe: one collector's scrape at a time.
class KeptKernfsFiles {
 public:
  // Keeps at most `max_files` descriptors; files beyond are opened, read and
  // closed at each read.
  explicit KeptKernfsFiles(KeepFiles keep = KeepFiles::kOnKernelFs,
                           std::size_t max_files = 256)
      : keep_(keep), files_(max_files) {}

  // ReadSmallFile(path, buf, cap), with its results and errors, through the
  // kept descriptor of `path` when there is one.
  Expected<std::string_view> Read(const std::string& path, char* buf,
                                  std::size_t cap);

  // Closes the descriptors not read since the previous Sweep (files of nodes
  // or slices no longer read).
  void Sweep() { files_.Sweep(); }

  std::size_t Size() const { return files_.Size(); }

 private:
  // Whether the file open on `fd` may be kept (the policy, and fstatfs).
  bool MayKeep(int fd) const;
  KeepFiles keep_;
  detail::KeptFds<std::unordered_map<std::string, detail::KeptFd>> files_;
};

// KeptKernfsFiles::Read through `kept`, or ReadSmallFile when it is null (the
// readers' default: tests and one-off reads keep nothing).
Expected<std::string_view> ReadKernfsFile(KeptKernfsFiles* kept,
                                          const std::string& path, char* buf,
                                          std::size_t cap);

// How many descriptors the guest sampler may keep: half of this process's
// soft RLIMIT_NOFILE, the rest left to sockets, the census and the readers.
std::size_t KeptProcFileBudget();

// Raises the soft RLIMIT_NOFILE to the hard one, as Go's runtime does for
// node_exporter: 500 guests of 8 vCPUs keep 4,500 to 8,500 descriptors, beyond
// the usual soft limit of 1,024. Called once at start-up, before any
// GuestSampler takes its budget. Safe where descriptors are waited on with
// poll(), not select() (CivetWeb on Linux).
void RaiseOpenFileLimit();

}  // namespace hostiso
