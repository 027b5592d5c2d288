#include "metrics/procfs/schedstat.h"

#include <string>

#include "metrics/cpu_set.h"
#include "metrics/text.h"

namespace hostiso {

Expected<std::vector<CpuRunDelay>> ParseSchedstat(std::string_view text) {
  std::vector<CpuRunDelay> out;
  CpuSet seen;
  bool have_version = false;
  int line_no = 0;
  for (std::string_view line : Split(text, '\n')) {
    ++line_no;
    auto where = [&] {
      return "/proc/schedstat:" + std::to_string(line_no) + ": ";
    };
    std::vector<std::string_view> f = SplitFields(line);
    if (f.empty()) continue;
    if (f[0] == "version") {
      auto v = f.size() == 2 ? ParseUint(f[1]) : std::nullopt;
      if (!v || *v < 15 || *v > 17) {
        return Error(where() + "expected schedstat version 15-17, got '" +
                     std::string(line) + "'");
      }
      have_version = true;
      continue;
    }
    if (f[0].size() < 4 || f[0].substr(0, 3) != "cpu") continue;
    if (!have_version)
      return Error(where() + "expected a 'version' line first");
    auto cpu = ParseUint(f[0].substr(3));
    if (!cpu || f.size() < 10) {
      return Error(where() + "expected 'cpuN' and 9 counters, got '" +
                   std::string(line) + "'");
    }
    auto delay = ParseUint(f[8]);
    if (!delay) {
      return Error(where() + "expected run_delay in column 8, got '" +
                   std::string(f[8]) + "'");
    }
    // A CPU number beyond NR_CPUS would wrap in the cast to int (cpu4294967297
    // became a second "cpu1" series); a repeated CPU would be a duplicate.
    if (*cpu >= static_cast<std::uint64_t>(CpuSet::kMaxCpus)) {
      return Error(where() + "CPU number above " +
                   std::to_string(CpuSet::kMaxCpus - 1) + " in '" +
                   std::string(f[0]) + "'");
    }
    int n = static_cast<int>(*cpu);
    if (seen.Contains(n)) {
      return Error(where() + "cpu" + std::to_string(n) + " appears twice");
    }
    seen.Insert(n);
    out.push_back(CpuRunDelay{n, *delay});
  }
  if (!have_version) return Error("/proc/schedstat: no 'version' line");
  return out;
}

}  // namespace hostiso
