// libFuzzer harness: "Max open files" of /proc/PID/limits (ParseMaxOpenFiles).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "metrics/process_metrics.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  hostiso::ParseMaxOpenFiles(text);
  return 0;
}
