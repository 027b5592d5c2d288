// libFuzzer harness: /proc/meminfo (ParseMeminfo, PoolsFromMeminfo).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "metrics/procfs/meminfo.h"
#include "metrics/sysfs/hugepages.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto m = hostiso::ParseMeminfo(text);
  if (m) {
    for (const auto& pool : hostiso::PoolsFromMeminfo(*m))
      pool.CommittedBytes();
  }
  return 0;
}
