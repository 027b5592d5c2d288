#include "exporter/self_affinity.h"

#include <dirent.h>
#include <sched.h>
#include <sys/types.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "metrics/log.h"
#include "metrics/text.h"

namespace hostiso {

Expected<void> ConfineProcessToCpus(const CpuSet& cpus) {
  if (cpus.Empty()) return Error("no CPUs to confine to");
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
  Expected<void> result = Ok();
  for (pid_t tid : tids) {
    // A thread that exited meanwhile (ESRCH) is fine.
    if (::sched_setaffinity(tid, setsize, mask) != 0 && errno != ESRCH) {
      result = Error(std::string("sched_setaffinity(") + std::to_string(tid) +
                     ", " + cpus.ToString() + "): " + std::strerror(errno));
    }
  }
  CPU_FREE(mask);
  return result;
}

}  // namespace hostiso

namespace hostiso {

void SelfConfinement::Apply(const IsolationSnapshot& iso) {
  if (!enabled_ || iso.roles_generation == applied_generation_) return;
  applied_generation_ = iso.roles_generation;
  const CpuSet host = iso.roles.HostCpus().Intersect(iso.topology.online);
  if (!iso.roles.IsolationConfigured() || host.Empty()) return;
  if (auto confined = ConfineProcessToCpus(host)) {
    log::Info("confined the exporter to host-role CPUs",
              {{"cpus", host.ToString()}});
  } else {
    log::Warn("could not confine the exporter to host-role CPUs",
              {{"err", confined.error()}});
  }
}

}  // namespace hostiso
