// libFuzzer harness: libvirt domstatus XML (ParseDomStatus).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "metrics/libvirt/domain_xml.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  hostiso::ParseDomStatus(text);
  return 0;
}
