#include "metrics/procfs/statm.h"

#include <vector>

#include "metrics/text.h"

namespace hostiso {

Expected<Statm> ParseStatm(std::string_view text) {
  std::vector<std::string_view> f = SplitFields(TrimSpace(text));
  if (f.size() < 3) return Error("statm: expected at least 3 fields");
  auto resident = ParseUint(f[1]);
  auto shared = ParseUint(f[2]);
  if (!resident || !shared) return Error("statm: expected numbers");
  return Statm{*resident, *shared};
}

}  // namespace hostiso
