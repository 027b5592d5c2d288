#include "metrics/procfs/task_schedstat.h"

#include <charconv>
#include <cstdint>
#include <string>

#include "metrics/text.h"

namespace hostiso {

namespace {

// What TrimSpace trims (std::isspace in the C locale), without the call.
bool Blank(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

// The unsigned decimal at `p`, which must end at a blank or at `end`; returns
// the position after it, or nullptr (no digits, overflow, other characters).
const char* TakeDecimal(const char* p, const char* end, std::uint64_t& v) {
  auto [q, ec] = std::from_chars(p, end, v);
  if (ec != std::errc() || (q != end && !Blank(*q))) return nullptr;
  return q;
}

}  // namespace

Expected<TaskSchedstat> ParseTaskSchedstat(std::string_view text) {
  // Read for every vCPU thread at every scrape (4,000 on a large host): the
  // three numbers are taken in one pass over the text, with no field views.
  std::uint64_t v[3] = {0, 0, 0};
  const char* p = text.data();
  const char* end = p + text.size();
  for (std::uint64_t& out : v) {
    while (p != end && Blank(*p)) ++p;
    p = p == end ? nullptr : TakeDecimal(p, end, out);
    if (p == nullptr)
      return Error("schedstat: expected 3 numbers, got \"" +
                   std::string(TrimSpace(text)) + "\"");
  }
  return TaskSchedstat{v[0], v[1], v[2]};
}

}  // namespace hostiso
