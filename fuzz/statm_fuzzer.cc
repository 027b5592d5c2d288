// libFuzzer harness: /proc/PID/statm (ParseStatm).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "metrics/procfs/statm.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  hostiso::ParseStatm(text);
  return 0;
}
