#include "exporter/self_affinity.h"

#include <dirent.h>
#include <sched.h>
#include <sys/types.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "metrics/text.h"

namespace hostiso {

bool ConfineProcessToCpus(const CpuSet& cpus, std::string* error) {
  if (cpus.Empty()) {
    *error = "no CPUs to confine to";
    return false;
  }
  std::size_t setsize = CPU_ALLOC_SIZE(cpus.End());
  cpu_set_t* mask = CPU_ALLOC(cpus.End());
  CPU_ZERO_S(setsize, mask);
  for (int cpu : cpus.Members()) CPU_SET_S(cpu, setsize, mask);
  std::vector<pid_t> tids;
  if (DIR* dir = ::opendir("/proc/self/task")) {
    while (dirent* e = ::readdir(dir)) {
      if (auto tid = ParseUint(e->d_name))
        tids.push_back(static_cast<pid_t>(*tid));
    }
    ::closedir(dir);
  }
  if (tids.empty()) tids.push_back(0);  // at least the calling thread
  bool ok = true;
  for (pid_t tid : tids) {
    // A thread that exited meanwhile (ESRCH) is fine.
    if (::sched_setaffinity(tid, setsize, mask) != 0 && errno != ESRCH) {
      *error = std::string("sched_setaffinity(") + std::to_string(tid) + ", " +
               cpus.ToString() + "): " + std::strerror(errno);
      ok = false;
    }
  }
  CPU_FREE(mask);
  return ok;
}

}  // namespace hostiso
