// libFuzzer harness: sysfs hugepages-NkB directory names
// (ParseHugePageDirName).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "metrics/sysfs/hugepages.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  hostiso::ParseHugePageDirName(text);
  return 0;
}
