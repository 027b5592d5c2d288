#pragma once

#include <cstdint>
#include <string_view>

#include "metrics/expected.h"

namespace hostiso {

// The fields of /proc/PID/statm used here, in pages.
struct Statm {
  std::uint64_t resident = 0;  // field 2: RssAnon + RssFile + RssShmem
  std::uint64_t shared = 0;    // field 3: RssFile + RssShmem
  std::uint64_t size = 0;      // field 1: VmSize, the whole address space
};
Expected<Statm> ParseStatm(std::string_view text);

}  // namespace hostiso
