#include "metrics/cgroupfs/cgroup_reader.h"

#include <sys/stat.h>

#include <cerrno>
#include <string_view>
#include <utility>

#include "metrics/cgroupfs/cgroup_files.h"
#include "metrics/procfs/read_file.h"

namespace hostiso {
namespace {

bool IsDir(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool Exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

bool IsAbsence(const Error& e) {
  return e.code() == ENOENT || e.code() == ENOTDIR;
}

// "a/b/c" -> "a/b"; "a" -> "" (the root).
std::string Parent(const std::string& rel) {
  const std::size_t slash = rel.rfind('/');
  return slash == std::string::npos ? std::string() : rel.substr(0, slash);
}

std::string In(const std::string& root, const std::string& rel) {
  return rel.empty() ? root : JoinPath(root, rel);
}

// One cgroup file read at every scrape (cpuset, cpu.stat, cpuacct.usage):
// into the caller's stack buffer `buf` (no fstat, no allocation), or, for a
// file too long for it (the cpuset list of a many-CPU host), into `big`.
// Errors as ReadFile's; code() is the errno (ENOENT when absent).
constexpr std::size_t kCgroupFileBuf = 4096;
Expected<std::string_view> ReadCgroupFile(const std::string& path,
                                          char (&buf)[kCgroupFileBuf],
                                          std::string& big,
                                          KeptKernfsFiles* kept) {
  auto text = ReadKernfsFile(kept, path, buf, sizeof buf);
  if (text || text.failure().code() != EFBIG) return text;
  HOSTISO_ASSIGN_OR_RETURN(big, ReadFile(path));
  return std::string_view(big);
}

// The cpuset file of one cgroup directory: nullopt when it has none.
Expected<std::optional<CpuSet>> ReadOwnCpuset(const CgroupHierarchy& h,
                                              const std::string& dir,
                                              KeptKernfsFiles* kept) {
  const char* const kV2Files[] = {"cpuset.cpus.effective"};
  // cpuset.effective_cpus appeared in Linux 3.17; cpuset.cpus before it.
  const char* const kV1Files[] = {"cpuset.effective_cpus", "cpuset.cpus"};
  const bool v2 = h.layout == CgroupLayout::kV2;
  const auto* begin = v2 ? std::begin(kV2Files) : std::begin(kV1Files);
  const auto* end = v2 ? std::end(kV2Files) : std::end(kV1Files);
  for (const auto* name = begin; name != end; ++name) {
    const std::string path = JoinPath(dir, *name);
    char buf[kCgroupFileBuf];
    std::string big;
    auto text = ReadCgroupFile(path, buf, big, kept);
    if (!text) {
      if (IsAbsence(text.failure())) continue;
      return text.failure();
    }
    auto set = ParseCgroupCpuset(*text);
    if (!set) return set.failure().WithContext(path);
    return std::optional<CpuSet>(std::move(set).value());
  }
  return std::optional<CpuSet>();
}

// The nearest cpuset file from the slice up to the root; `own`: the slice's
// own. Reads without stat-ing first: a missing directory is an ENOENT.
struct FoundCpuset {
  CpuSet cpus;
  bool own = false;
};
Expected<FoundCpuset> EffectiveCpuset(const CgroupHierarchy& h,
                                      const std::string& slice,
                                      const CpuSet& online, CpusetCache& cache,
                                      KeptKernfsFiles* kept) {
  if (h.cpuset_root.empty()) return FoundCpuset{online, false};
  std::string rel = slice;
  while (true) {
    const std::string dir = In(h.cpuset_root, rel);
    auto known = cache.find(dir);
    if (known == cache.end()) {
      HOSTISO_ASSIGN_OR_RETURN(std::optional<CpuSet> own,
                               ReadOwnCpuset(h, dir, kept));
      known = cache.emplace(dir, std::move(own)).first;
    }
    if (known->second) return FoundCpuset{*known->second, rel == slice};
    if (rel.empty()) return FoundCpuset{online, false};
    rel = Parent(rel);
  }
}

// Reads `rel` (cpuacct.usage or cpu.stat) under `dir`; nullopt when absent.
Expected<std::optional<double>> ReadCpuSeconds(const std::string& dir,
                                               bool cpu_stat,
                                               KeptKernfsFiles* kept) {
  const std::string path =
      JoinPath(dir, cpu_stat ? "cpu.stat" : "cpuacct.usage");
  char buf[kCgroupFileBuf];
  std::string big;
  auto text = ReadCgroupFile(path, buf, big, kept);
  if (!text) {
    if (IsAbsence(text.failure())) return std::optional<double>();
    return text.failure();
  }
  if (cpu_stat) {
    auto usec = ParseCgroupCpuStatUsageUsec(*text);
    if (!usec) return usec.failure().WithContext(path);
    return std::optional<double>(static_cast<double>(*usec) / 1e6);
  }
  auto ns = ParseCpuacctUsageNs(*text);
  if (!ns) return ns.failure().WithContext(path);
  return std::optional<double>(static_cast<double>(*ns) / 1e9);
}

// The cpuacct hierarchy's counter (cgroup2: cpu.stat), else on a v1 hybrid
// host the unified hierarchy's cpu.stat. nullopt when neither has one (or
// a cgroup2 kernel before 4.15 keeps none without the cpu controller).
Expected<std::optional<double>> CpuSeconds(const CgroupHierarchy& h,
                                           const std::string& slice,
                                           KeptKernfsFiles* kept) {
  if (!h.cpuacct_root.empty()) {
    HOSTISO_ASSIGN_OR_RETURN(
        std::optional<double> seconds,
        ReadCpuSeconds(JoinPath(h.cpuacct_root, slice),
                       h.layout == CgroupLayout::kV2, kept));
    if (seconds) return seconds;
  }
  if (h.unified_root.empty()) return std::optional<double>();
  return ReadCpuSeconds(JoinPath(h.unified_root, slice), true, kept);
}

bool SliceExists(const CgroupHierarchy& h, const std::string& slice) {
  for (const std::string* root :
       {&h.cpuset_root, &h.cpuacct_root, &h.unified_root}) {
    if (!root->empty() && IsDir(JoinPath(*root, slice))) return true;
  }
  return false;
}

}  // namespace

Expected<CgroupHierarchy> DetectCgroupHierarchy(const std::string& root) {
  CgroupHierarchy h;
  if (Exists(JoinPath(root, "cgroup.controllers"))) {
    h.layout = CgroupLayout::kV2;
    h.cpuset_root = root;
    h.cpuacct_root = root;
    return h;
  }
  h.layout = CgroupLayout::kV1;
  if (IsDir(JoinPath(root, "cpuset"))) h.cpuset_root = JoinPath(root, "cpuset");
  // systemd co-mounts cpu and cpuacct; the name follows mount order.
  for (const char* name : {"cpuacct", "cpu,cpuacct", "cpuacct,cpu"}) {
    if (IsDir(JoinPath(root, name))) {
      h.cpuacct_root = JoinPath(root, name);
      break;
    }
  }
  if (Exists(JoinPath(root, "unified/cgroup.controllers")))
    h.unified_root = JoinPath(root, "unified");
  if (h.cpuset_root.empty() && h.cpuacct_root.empty())
    return Error(root +
                 ": no cgroup hierarchy (neither cgroup2's cgroup.controllers "
                 "nor a v1 cpuset or cpuacct directory)");
  return h;
}

Expected<std::optional<SliceReading>> ReadSlice(const CgroupHierarchy& h,
                                                const std::string& slice,
                                                const CpuSet& online,
                                                CpusetCache* cache,
                                                KeptKernfsFiles* kept) {
  using Result = std::optional<SliceReading>;
  // Read first, stat only when a file was missing: a slice's files are
  // there on every scrape but the first of a new host.
  CpusetCache own_cache;
  HOSTISO_ASSIGN_OR_RETURN(
      FoundCpuset found,
      EffectiveCpuset(h, slice, online, cache ? *cache : own_cache, kept));
  SliceReading r;
  r.cpuset = std::move(found.cpus);
  HOSTISO_ASSIGN_OR_RETURN(r.cpu_seconds, CpuSeconds(h, slice, kept));
  // Its own CPU-time file read: the slice exists (in the cpuacct or unified
  // hierarchy; under v1 systemd's slices have no cpuset directory and
  // inherit the root's). Without one, the slice may not exist, or was
  // removed while we read it (its cpuset then came from its parent): look.
  if (!r.cpu_seconds && !SliceExists(h, slice)) return Result();
  return Result(std::move(r));
}

std::optional<std::string> FindMachineSlice(const CgroupHierarchy& h) {
  for (const char* name : {"machine.slice", "machine"})
    if (SliceExists(h, name)) return std::string(name);
  return std::nullopt;
}

}  // namespace hostiso
