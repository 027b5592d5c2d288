// libFuzzer harness: cgroup cpuset list files (ParseCgroupCpuset): v2
// cpuset.cpus.effective, v1 cpuset.effective_cpus and cpuset.cpus.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "metrics/cgroupfs/cgroup_files.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto set = hostiso::ParseCgroupCpuset(text);
  // What the exporter writes as the cpus label must read back the same.
  if (set && !(*hostiso::ParseCgroupCpuset(set->ToString() + "\n") == *set))
    __builtin_trap();
  return 0;
}
