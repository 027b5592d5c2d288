// libFuzzer harness: oslo.config INI files (ParseIni).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "metrics/ini.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  hostiso::ParseIni(text, "nova.conf");
  return 0;
}
