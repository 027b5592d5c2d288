// libFuzzer harness: /proc/PID/task/TID/stat (ParseTaskStat).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "metrics/procfs/task_stat.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  hostiso::ParseTaskStat(text);
  return 0;
}
