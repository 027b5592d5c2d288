// libFuzzer harness: Nova instance metadata XML (ParseNovaMetadata).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "metrics/libvirt/domain_xml.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  hostiso::ParseNovaMetadata(text);
  return 0;
}
