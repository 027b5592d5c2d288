#include "metrics/procfs/task_stat.h"

#include <charconv>

namespace hostiso {
namespace {

// Returns the next space-separated field of `rest` and advances past it.
std::string_view NextField(std::string_view& rest) {
  std::size_t i = 0;
  while (i < rest.size() && rest[i] == ' ') ++i;
  std::size_t start = i;
  while (i < rest.size() && rest[i] != ' ' && rest[i] != '\n') ++i;
  std::string_view field = rest.substr(start, i - start);
  rest.remove_prefix(i);
  return field;
}

template <typename T>
bool ParseNumber(std::string_view s, T* out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return !s.empty() && ec == std::errc() && end == s.data() + s.size();
}

}  // namespace

Expected<TaskStat> ParseTaskStat(std::string_view line) {
  TaskStat st;
  std::size_t open = line.find('(');
  std::size_t close = line.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos ||
      close < open) {
    return Error("stat line has no '(comm)' field");
  }
  std::string_view pid_text = line.substr(0, open);
  while (!pid_text.empty() && pid_text.back() == ' ') pid_text.remove_suffix(1);
  if (!ParseNumber(pid_text, &st.pid)) {
    return Error("stat field 1 (pid) is not a number: '" +
                 std::string(pid_text) + "'");
  }
  st.comm.assign(line.substr(open + 1, close - open - 1));
  std::string_view rest = line.substr(close + 1);
  // Fields 3..39 follow the comm; field N is the (N-2)th of them.
  for (int field = 3; field <= 39; ++field) {
    std::string_view f = NextField(rest);
    if (f.empty()) {
      return Error("stat line ends before field " + std::to_string(field) +
                   " (pid " + std::to_string(st.pid) + ")");
    }
    bool ok = true;
    switch (field) {
      case 3:
        st.state = f.front();
        break;
      case 4:
        ok = ParseNumber(f, &st.ppid);
        break;
      case 9:
        ok = ParseNumber(f, &st.flags);
        break;
      case 14:
        ok = ParseNumber(f, &st.utime);
        break;
      case 15:
        ok = ParseNumber(f, &st.stime);
        break;
      case 22:
        ok = ParseNumber(f, &st.starttime);
        break;
      case 23:
        ok = ParseNumber(f, &st.vsize_bytes);
        break;
      case 24:
        ok = ParseNumber(f, &st.rss_pages);
        break;
      case 39:
        ok = ParseNumber(f, &st.processor);
        break;
      default:
        break;
    }
    if (!ok) {
      return Error("stat field " + std::to_string(field) +
                   " is not a number: '" + std::string(f) + "' (pid " +
                   std::to_string(st.pid) + ")");
    }
  }
  return st;
}

}  // namespace hostiso
