// libFuzzer harness: /proc/PID/mountinfo (ParseMountInfo).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "metrics/headroom/block_devices.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  hostiso::ParseMountInfo(text);
  return 0;
}
