// libFuzzer harness: /proc/schedstat (ParseSchedstat).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "metrics/procfs/schedstat.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  hostiso::ParseSchedstat(text);
  return 0;
}
