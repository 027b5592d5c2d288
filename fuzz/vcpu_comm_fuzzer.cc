// libFuzzer harness: QEMU vCPU thread names (VcpuIndexFromComm).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "metrics/procfs/qemu_process.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  hostiso::VcpuIndexFromComm(text);
  return 0;
}
