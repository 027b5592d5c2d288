// libFuzzer harness: one NUMA node's meminfo,
// /sys/devices/system/node/nodeN/meminfo (ParseNodeMeminfo). The first byte
// picks the node the file must name.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "metrics/sysfs/numa_node.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  if (size == 0) return 0;
  const int node = data[0] % 4;
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  auto m = hostiso::ParseNodeMeminfo(text, node);
  // A parsed file never has more free memory than total.
  if (m && m->free_bytes > m->total_bytes) __builtin_trap();
  return 0;
}
