#include "metrics/procfs/task_schedstat.h"

#include <string>

#include "metrics/text.h"

namespace hostiso {

Expected<TaskSchedstat> ParseTaskSchedstat(std::string_view text) {
  // Read for every vCPU thread at every scrape: fields are taken in place,
  // without SplitFields' vector.
  std::string_view rest = TrimSpace(text);
  auto run = ParseUint(TakeField(rest));
  auto delay = ParseUint(TakeField(rest));
  auto slices = ParseUint(TakeField(rest));
  if (!run || !delay || !slices)
    return Error("schedstat: expected 3 numbers, got \"" +
                 std::string(TrimSpace(text)) + "\"");
  return TaskSchedstat{*run, *delay, *slices};
}

}  // namespace hostiso
