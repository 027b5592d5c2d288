// libFuzzer harness: `vgs --reportformat json` output (ParseVgsReport).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "metrics/headroom/lvm.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  hostiso::ParseVgsReport(text, "nova-vg");
  return 0;
}
