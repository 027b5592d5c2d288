// libFuzzer harness: the number parsers every kernel-file parser builds on
// (ParseUint, ParseInt, ParseDouble).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "metrics/text.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  hostiso::ParseUint(text);
  hostiso::ParseInt(text);
  hostiso::ParseDouble(text);
  return 0;
}
