#pragma once

#include <string_view>

#include "metrics/cpu_set.h"

namespace hostiso::testing {

// A CPU set from a kernel-style list ("0-3,8"), for tests only: the list is a
// literal the test wrote, so a parse error is the test's bug and throws.
inline CpuSet Cpus(std::string_view list) { return ParseCpuList(list).value(); }

}  // namespace hostiso::testing
