// libFuzzer harness: /proc/stat (ParseProcStat, SplitByConsumer).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "metrics/procfs/proc_stat.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto cpus = hostiso::ParseProcStat(text);
  if (cpus) {
    for (const auto& t : *cpus) hostiso::SplitByConsumer(t);
  }
  return 0;
}
