#include "metrics/procfs/task_status.h"

#include "metrics/text.h"

namespace hostiso {

Expected<CpuSet> ParseCpusAllowedList(std::string_view status) {
  static constexpr std::string_view kKey = "Cpus_allowed_list:";
  std::size_t pos = status.find(kKey);
  // The key must start a line: "Cpus_allowed_list:" inside another value
  // (none exists today) must not match.
  while (pos != std::string_view::npos && pos != 0 && status[pos - 1] != '\n')
    pos = status.find(kKey, pos + 1);
  if (pos == std::string_view::npos)
    return Error("status: no Cpus_allowed_list line");
  std::string_view value = status.substr(pos + kKey.size());
  value = TrimSpace(value.substr(0, value.find('\n')));
  return ParseCpuList(value);
}

}  // namespace hostiso
