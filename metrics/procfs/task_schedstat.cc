#include "metrics/procfs/task_schedstat.h"

#include <string>

#include "metrics/text.h"

namespace hostiso {

Expected<TaskSchedstat> ParseTaskSchedstat(std::string_view text) {
  auto f = SplitFields(TrimSpace(text));
  if (f.size() < 3)
    return Error("schedstat: expected 3 numbers, got \"" +
                 std::string(TrimSpace(text)) + "\"");
  auto run = ParseUint(f[0]), delay = ParseUint(f[1]), slices = ParseUint(f[2]);
  if (!run || !delay || !slices)
    return Error("schedstat: expected 3 numbers, got \"" +
                 std::string(TrimSpace(text)) + "\"");
  return TaskSchedstat{*run, *delay, *slices};
}

}  // namespace hostiso
