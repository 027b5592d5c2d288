#include "metrics/procfs/qemu_process.h"

#include <dirent.h>

#include <cctype>
#include <memory>

#include "metrics/procfs/read_file.h"
#include "metrics/text.h"

namespace hostiso {
namespace {

struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};

bool AllDigits(const char* s) {
  if (*s == '\0') return false;
  for (; *s != '\0'; ++s)
    if (!std::isdigit(static_cast<unsigned char>(*s))) return false;
  return true;
}

// QEMU option values double a literal comma (",,"); a single comma ends it.
std::string UnescapeOptionValue(std::string_view v) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == ',') {
      if (i + 1 < v.size() && v[i + 1] == ',') {
        out.push_back(',');
        ++i;
        continue;
      }
      break;
    }
    out.push_back(v[i]);
  }
  return out;
}

}  // namespace

std::optional<int> VcpuIndexFromComm(std::string_view comm) {
  comm = TrimSpace(comm);
  constexpr std::string_view kPrefix = "CPU ";
  if (comm.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  comm.remove_prefix(kPrefix.size());
  std::size_t slash = comm.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  std::string_view accel = comm.substr(slash + 1);
  if (accel != "KVM" && accel != "TCG" && accel != "HVF" && accel != "WHPX")
    return std::nullopt;
  auto n = ParseUint(comm.substr(0, slash));
  if (!n || *n > 100000) return std::nullopt;
  return static_cast<int>(*n);
}

std::optional<std::string> QemuGuestNameFromCmdline(std::string_view cmdline) {
  auto args = Split(cmdline, '\0');
  if (args.empty() || args[0].find("qemu") == std::string_view::npos)
    return std::nullopt;
  for (std::size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] != "-name") continue;
    std::string_view v = args[i + 1];
    // "-name guest=NAME,debug-threads=on" (libvirt) or "-name NAME[,...]".
    std::size_t pos = 0;
    while (pos < v.size()) {
      std::string_view rest = v.substr(pos);
      if (rest.substr(0, 6) == "guest=")
        return UnescapeOptionValue(rest.substr(6));
      // Skip this option (respecting ",,").
      std::size_t j = 0;
      for (; j < rest.size(); ++j) {
        if (rest[j] == ',') {
          if (j + 1 < rest.size() && rest[j + 1] == ',') {
            ++j;
            continue;
          }
          break;
        }
      }
      pos += j + 1;
    }
    std::string plain = UnescapeOptionValue(v);
    if (plain.find('=') == std::string::npos && !plain.empty()) return plain;
    return std::nullopt;
  }
  return std::nullopt;
}

std::map<std::string, pid_t> ScanQemuProcesses(const std::string& procfs) {
  std::map<std::string, pid_t> out;
  std::unique_ptr<DIR, DirCloser> dir(::opendir(procfs.c_str()));
  if (!dir) return out;
  while (dirent* e = ::readdir(dir.get())) {
    if (!AllDigits(e->d_name)) continue;
    auto cmd = ReadFile(JoinPath(procfs, std::string(e->d_name) + "/cmdline"));
    if (!cmd) continue;  // exited meanwhile
    if (auto name = QemuGuestNameFromCmdline(*cmd))
      out.emplace(*name, static_cast<pid_t>(std::stol(e->d_name)));
  }
  return out;
}

std::map<int, pid_t> FindVcpuThreads(const std::string& procfs, pid_t pid) {
  std::map<int, pid_t> out;
  std::string task_dir = JoinPath(procfs, std::to_string(pid) + "/task");
  std::unique_ptr<DIR, DirCloser> dir(::opendir(task_dir.c_str()));
  if (!dir) return out;
  while (dirent* e = ::readdir(dir.get())) {
    if (!AllDigits(e->d_name)) continue;
    auto comm = ReadFile(task_dir + "/" + e->d_name + "/comm");
    if (!comm) continue;
    if (auto idx = VcpuIndexFromComm(*comm))
      out.emplace(*idx, static_cast<pid_t>(std::stol(e->d_name)));
  }
  return out;
}

}  // namespace hostiso
