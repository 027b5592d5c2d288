// libFuzzer harness: CPU lists (ParseCpuList) in both syntaxes, kernel
// (sysfs, isolcpus=) and Nova (cpu_dedicated_set with ^N exclusions).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "metrics/cpu_set.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (auto syntax :
       {hostiso::CpuListSyntax::kKernel, hostiso::CpuListSyntax::kNova}) {
    auto set = hostiso::ParseCpuList(text, syntax);
    // The canonical form must parse back to the same set.
    if (set && !(*hostiso::ParseCpuList(set->ToString()) == *set))
      __builtin_trap();
  }
  return 0;
}
