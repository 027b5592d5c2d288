// libFuzzer harness: Cpus_allowed_list of /proc/PID/task/TID/status
// (ParseCpusAllowedList).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "metrics/procfs/task_status.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  hostiso::ParseCpusAllowedList(text);
  return 0;
}
