// libFuzzer harness: nova.conf with interpolation (ParseNovaConfig).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "metrics/nova_config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  hostiso::ParseNovaConfig(text, "nova.conf");
  return 0;
}
