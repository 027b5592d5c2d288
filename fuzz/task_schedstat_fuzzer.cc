// libFuzzer harness: /proc/PID/task/TID/schedstat (ParseTaskSchedstat).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "metrics/procfs/task_schedstat.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  hostiso::ParseTaskSchedstat(text);
  return 0;
}
