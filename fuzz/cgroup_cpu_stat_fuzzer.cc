// libFuzzer harness: cgroup2 cpu.stat (ParseCgroupCpuStatUsageUsec).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "metrics/cgroupfs/cgroup_files.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto usec = hostiso::ParseCgroupCpuStatUsageUsec(text);
  // An error is one line (it reaches the log as one).
  if (!usec && usec.error().find('\n') != std::string::npos) __builtin_trap();
  return 0;
}
