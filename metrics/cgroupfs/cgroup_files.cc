#include "metrics/cgroupfs/cgroup_files.h"

#include <string>

#include "metrics/text.h"

namespace hostiso {
namespace {

// At most this much of a bad input is quoted in an error (the file is
// untrusted: an error must stay one readable line).
constexpr std::size_t kQuoteMax = 40;

std::string Quote(std::string_view text) {
  std::string out(text.substr(0, kQuoteMax));
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  if (text.size() > kQuoteMax) out += "...";
  return "'" + out + "'";
}

}  // namespace

Expected<CpuSet> ParseCgroupCpuset(std::string_view text) {
  // One line: a second one means this is not a cpuset file.
  std::string_view body = text;
  if (!body.empty() && body.back() == '\n') body.remove_suffix(1);
  if (body.find('\n') != std::string_view::npos)
    return Error("expected one CPU list line, got " + Quote(text));
  body = TrimSpace(body);
  if (body.empty()) return CpuSet();
  auto set = ParseCpuList(body, CpuListSyntax::kKernel);
  if (!set) return Error("bad CPU list: " + set.error());
  return set;
}

Expected<std::uint64_t> ParseCgroupCpuStatUsageUsec(std::string_view text) {
  for (std::string_view line : Split(text, '\n')) {
    std::vector<std::string_view> fields = SplitFields(line);
    if (fields.empty() || fields[0] != "usage_usec") continue;
    std::optional<std::uint64_t> usec;
    if (fields.size() == 2) usec = ParseUint(fields[1]);
    if (!usec) return Error("bad usage_usec line " + Quote(line));
    return *usec;
  }
  return Error("no usage_usec line");
}

Expected<std::uint64_t> ParseCpuacctUsageNs(std::string_view text) {
  std::string_view body = TrimSpace(text);
  std::optional<std::uint64_t> ns = ParseUint(body);
  if (!ns) return Error("expected nanoseconds, got " + Quote(text));
  return *ns;
}

}  // namespace hostiso
