#include "metrics/procfs/statm.h"

#include "metrics/text.h"

namespace hostiso {

Expected<Statm> ParseStatm(std::string_view text) {
  // Read for every QEMU process at every scrape: fields taken in place.
  std::string_view rest = TrimSpace(text);
  const std::string_view size = TakeField(rest);
  const std::string_view resident_text = TakeField(rest);
  const std::string_view shared_text = TakeField(rest);
  if (size.empty() || resident_text.empty() || shared_text.empty())
    return Error("statm: expected at least 3 fields");
  auto total = ParseUint(size);
  auto resident = ParseUint(resident_text);
  auto shared = ParseUint(shared_text);
  if (!total || !resident || !shared) return Error("statm: expected numbers");
  return Statm{*resident, *shared, *total};
}

}  // namespace hostiso
