#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "metrics/cpu_set.h"
#include "metrics/expected.h"

namespace hostiso {

// The isolation-related parameters of the kernel command line (/proc/cmdline).
struct KernelCmdline {
  CpuSet isolcpus;
  // Flags given before the list in isolcpus= (nohz, domain, managed_irq).
  std::vector<std::string> isolcpus_flags;
  CpuSet nohz_full;
  CpuSet rcu_nocbs;
};

// Parses /proc/cmdline text. Values may be double-quoted; everything after a
// bare "--" belongs to init and is ignored; the last occurrence of a parameter
// wins, as in the kernel. Errors name the parameter and quote its value.
Expected<KernelCmdline> ParseKernelCmdline(std::string_view text);

}  // namespace hostiso
