// libFuzzer harness: libvirt domain XML (ParseDomainXml, DeriveCpuPolicy).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "metrics/libvirt/domain_xml.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto dom = hostiso::ParseDomainXml(text);
  if (dom) hostiso::DeriveCpuPolicy(*dom);
  return 0;
}
