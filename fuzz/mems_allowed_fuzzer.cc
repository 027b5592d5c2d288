// libFuzzer harness: Mems_allowed_list of /proc/PID/status
// (ParseMemsAllowedList).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "metrics/procfs/task_status.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto nodes = hostiso::ParseMemsAllowedList(text);
  // A parsed list is never empty (every task may allocate somewhere).
  if (nodes && nodes->Empty()) __builtin_trap();
  return 0;
}
