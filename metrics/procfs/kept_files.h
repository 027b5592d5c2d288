#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <tuple>
#include <utility>

#include "metrics/procfs/read_file.h"

namespace hostiso {

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
  explicit KeptProcFiles(std::size_t max_files) : max_files_(max_files) {}

  // Reads `file` of thread `tid` of process `pid` (statm: tid = pid) into
  // `buf` (at most `cap` bytes, as ReadSmallFileAt): through its kept
  // descriptor, or else through the UniqueFd `open()` returns (invalid when
  // the file cannot be opened), which is then kept. Returns the length, or
  // -1 with errno set.
  template <typename Open>
  ssize_t Read(pid_t pid, pid_t tid, File file, const Open& open, char* buf,
               std::size_t cap) {
    const Key key{pid, tid, file};
    if (const ssize_t n = ReadKept(key, buf, cap); n > 0) return n;
    UniqueFd fd = open();
    if (!fd.valid()) return -1;
    return ReadAndKeep(key, std::move(fd), buf, cap);
  }

  // Closes the descriptors not read since the previous Sweep (threads that
  // left the inventory or exited).
  void Sweep();

  std::size_t Size() const { return files_.size(); }

 private:
  struct Kept {
    UniqueFd fd;
    std::uint64_t read_in = 0;  // the sweep generation of its last read
  };
  using Key = std::tuple<pid_t, pid_t, File>;
  // Through the kept descriptor of `key`: the length, or 0 when there is
  // none or it failed (then it is closed).
  ssize_t ReadKept(const Key& key, char* buf, std::size_t cap);
  ssize_t ReadAndKeep(const Key& key, UniqueFd fd, char* buf, std::size_t cap);
  std::size_t max_files_;
  std::uint64_t generation_ = 0;
  std::map<Key, Kept> files_;
};

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
