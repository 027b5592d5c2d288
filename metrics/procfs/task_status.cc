#include "metrics/procfs/task_status.h"

#include <string>

#include "metrics/text.h"

namespace hostiso {

namespace {

// The value of the "Key:" line of a status file (the key must start a line:
// the same text inside another value must not match).
Expected<std::string_view> StatusValue(std::string_view status,
                                       std::string_view key) {
  std::size_t pos = status.find(key);
  while (pos != std::string_view::npos && pos != 0 && status[pos - 1] != '\n')
    pos = status.find(key, pos + 1);
  if (pos == std::string_view::npos)
    return Error("status: no " + std::string(key.substr(0, key.size() - 1)) +
                 " line");
  std::string_view value = status.substr(pos + key.size());
  return TrimSpace(value.substr(0, value.find('\n')));
}

}  // namespace

Expected<CpuSet> ParseCpusAllowedList(std::string_view status) {
  HOSTISO_ASSIGN_OR_RETURN(std::string_view value,
                           StatusValue(status, "Cpus_allowed_list:"));
  return ParseCpuList(value);
}

Expected<CpuSet> ParseMemsAllowedList(std::string_view status) {
  HOSTISO_ASSIGN_OR_RETURN(std::string_view value,
                           StatusValue(status, "Mems_allowed_list:"));
  auto nodes = ParseCpuList(value);
  if (!nodes) return nodes.failure().WithContext("status: Mems_allowed_list");
  // Every task may allocate somewhere: an empty list is not a kernel's.
  if (nodes->Empty()) return Error("status: Mems_allowed_list is empty");
  return nodes;
}

}  // namespace hostiso
