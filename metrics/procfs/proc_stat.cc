#include "metrics/procfs/proc_stat.h"

#include <algorithm>
#include <array>
#include <string>

#include "metrics/text.h"

namespace hostiso {

Expected<std::vector<CpuTicks>> ParseProcStat(std::string_view text) {
  std::vector<CpuTicks> out;
  int line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    // Per-CPU lines are "cpuN ..."; "cpu " is the aggregate.
    if (line.size() < 4 || line.substr(0, 3) != "cpu" || line[3] < '0' ||
        line[3] > '9')
      continue;
    auto where = [&] { return "line " + std::to_string(line_no) + ": "; };
    std::size_t name_end = line.find_first_of(" \t");
    auto cpu = ParseUint(line.substr(3, name_end - 3));
    if (!cpu || *cpu >= 8192) {
      return Error(where() + "expected 'cpuN', got '" +
                   std::string(line.substr(0, name_end)) + "'");
    }
    std::vector<std::string_view> fields =
        SplitFields(name_end == std::string_view::npos ? std::string_view()
                                                       : line.substr(name_end));
    // Linux 2.6 printed at least user, nice, system, idle.
    if (fields.size() < 4) {
      return Error(where() + "expected at least 4 tick columns for cpu" +
                   std::to_string(*cpu) + ", got " +
                   std::to_string(fields.size()));
    }
    std::array<std::uint64_t, 10> v{};
    for (std::size_t i = 0; i < fields.size() && i < v.size(); ++i) {
      auto n = ParseUint(fields[i]);
      if (!n) {
        return Error(where() + "expected a tick count in column " +
                     std::to_string(i + 1) + " of cpu" + std::to_string(*cpu) +
                     ", got '" + std::string(fields[i]) + "'");
      }
      v[i] = *n;
    }
    for (const CpuTicks& seen : out) {
      if (seen.cpu == static_cast<int>(*cpu))
        return Error(where() + "cpu" + std::to_string(*cpu) + " appears twice");
    }
    CpuTicks t;
    t.cpu = static_cast<int>(*cpu);
    t.user = v[0];
    t.nice = v[1];
    t.system = v[2];
    t.idle = v[3];
    t.iowait = v[4];
    t.irq = v[5];
    t.softirq = v[6];
    t.steal = v[7];
    t.guest = v[8];
    t.guest_nice = v[9];
    out.push_back(t);
  }
  // A running kernel always has an online CPU: no per-CPU line means the file
  // is truncated or not /proc/stat, not a host without CPUs.
  if (out.empty()) return Error("no per-CPU 'cpuN' line");
  return out;
}

CpuConsumerTicks SplitByConsumer(const CpuTicks& t) {
  CpuConsumerTicks c;
  // The kernel counts guest time inside user/nice (account_guest_time), so
  // guest can never exceed user+nice; the two are not read atomically, and a
  // broken file can claim more. Clamping guest (rather than flooring host)
  // keeps host + guest = user + nice + system + irq + softirq: the four
  // consumers always add up to the CPU's time.
  const double user_nice =
      static_cast<double>(t.user) + static_cast<double>(t.nice);
  c.guest =
      std::min(static_cast<double>(t.guest) + static_cast<double>(t.guest_nice),
               user_nice);
  c.host = user_nice - c.guest + static_cast<double>(t.system) +
           static_cast<double>(t.irq) + static_cast<double>(t.softirq);
  c.steal = static_cast<double>(t.steal);
  c.idle = static_cast<double>(t.idle) + static_cast<double>(t.iowait);
  return c;
}

}  // namespace hostiso
