// libFuzzer harness: thread-name classifiers of the census
// (detail::IsQemuProcessName, detail::KernelThreadLabel).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "metrics/census/census.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  hostiso::detail::IsQemuProcessName(text);
  hostiso::detail::KernelThreadLabel(text);
  return 0;
}
