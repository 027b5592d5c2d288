// libFuzzer harness: libvirt scaled integers (detail::ScaledToBytes). The
// first line is the value, the rest the unit.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "metrics/libvirt/domain_xml.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto nl = text.find('\n');
  std::string_view value = text.substr(0, nl);
  std::string_view unit =
      nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
  hostiso::detail::ScaledToBytes(value, unit);
  return 0;
}
