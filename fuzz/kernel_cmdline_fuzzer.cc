// libFuzzer harness: /proc/cmdline (ParseKernelCmdline).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "metrics/procfs/kernel_cmdline.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  hostiso::ParseKernelCmdline(text);
  return 0;
}
