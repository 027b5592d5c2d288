#include "metrics/procfs/schedstat.h"

#include <array>
#include <string>

#include "metrics/cpu_set.h"
#include "metrics/text.h"

namespace hostiso {

// /proc/schedstat: a "version" line, then per CPU a "cpuN" line of 9
// counters followed by one "domainN" line of about 36 per scheduling domain.
// Fields are taken one at a time (TakeField): a scrape parses every CPU's
// lines, and the domain lines are skipped after their first field.
Expected<std::vector<CpuRunDelay>> ParseSchedstat(std::string_view text) {
  constexpr std::size_t kCounters = 9;  // cpuN's fields after its name
  constexpr std::size_t kRunDelay = 7;  // run_delay among them (0-based)
  std::vector<CpuRunDelay> out;
  CpuSet seen;
  bool have_version = false;
  int line_no = 0;
  while (!text.empty()) {
    const std::size_t eol = text.find('\n');
    const std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    ++line_no;
    auto where = [&] {
      return "/proc/schedstat:" + std::to_string(line_no) + ": ";
    };
    std::string_view rest = line;
    const std::string_view name = TakeField(rest);
    if (name.empty()) continue;
    if (name == "version") {
      const std::string_view number = TakeField(rest);
      auto v = TakeField(rest).empty() ? ParseUint(number) : std::nullopt;
      if (!v || *v < 15 || *v > 17) {
        return Error(where() + "expected schedstat version 15-17, got '" +
                     std::string(line) + "'");
      }
      have_version = true;
      continue;
    }
    if (name.size() < 4 || name.substr(0, 3) != "cpu") continue;
    if (!have_version)
      return Error(where() + "expected a 'version' line first");
    auto cpu = ParseUint(name.substr(3));
    std::array<std::string_view, kCounters> counters;
    std::size_t found = 0;
    for (; found < kCounters; ++found) {
      counters[found] = TakeField(rest);
      if (counters[found].empty()) break;
    }
    if (!cpu || found < kCounters) {
      return Error(where() + "expected 'cpuN' and 9 counters, got '" +
                   std::string(line) + "'");
    }
    auto delay = ParseUint(counters[kRunDelay]);
    if (!delay) {
      return Error(where() + "expected run_delay in column 8, got '" +
                   std::string(counters[kRunDelay]) + "'");
    }
    // A CPU number beyond NR_CPUS would wrap in the cast to int (cpu4294967297
    // became a second "cpu1" series); a repeated CPU would be a duplicate.
    if (*cpu >= static_cast<std::uint64_t>(CpuSet::kMaxCpus)) {
      return Error(where() + "CPU number above " +
                   std::to_string(CpuSet::kMaxCpus - 1) + " in '" +
                   std::string(name) + "'");
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
