// libFuzzer harness: oslo.config interpolation (detail::Interpolate). The
// input is an INI file; every value of every section is interpolated, as
// NovaConfigFromIni does for paths.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "metrics/ini.h"
#include "metrics/nova_config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto ini = hostiso::ParseIni(text, "nova.conf");
  if (!ini) return 0;
  for (const auto& [section, keys] : ini->sections) {
    for (const auto& [key, values] : keys) {
      for (const auto& v : values) {
        hostiso::detail::Interpolate(v.value, *ini, section, key, "nova.conf",
                                     v.line);
      }
    }
  }
  return 0;
}
