#include "metrics/headroom/lvm.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>

#include "metrics/text.h"

extern char** environ;

namespace hostiso {

namespace {

// Reads one JSON string starting at s[i] == '"'; LVM escapes only '"' and
// '\\' in names. Advances i past the closing quote.
bool ReadJsonString(std::string_view s, std::size_t& i, std::string& out) {
  if (i >= s.size() || s[i] != '"') return false;
  out.clear();
  for (++i; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      out.push_back(s[++i]);
    } else if (s[i] == '"') {
      ++i;
      return true;
    } else {
      out.push_back(s[i]);
    }
  }
  return false;
}

// The flat {"key":"value", ...} objects inside the "vg" array of the report.
Expected<std::vector<std::map<std::string, std::string>>> VgRows(
    std::string_view json) {
  std::size_t pos = json.find("\"vg\"");
  if (pos == std::string_view::npos)
    return Error("vgs report has no \"vg\" section");
  pos = json.find('[', pos);
  if (pos == std::string_view::npos)
    return Error("vgs report: \"vg\" is not an array");
  std::vector<std::map<std::string, std::string>> rows;
  std::size_t i = pos + 1;
  while (i < json.size()) {
    char c = json[i];
    if (c == ']') return rows;
    if (c != '{') {
      ++i;
      continue;
    }
    ++i;
    std::map<std::string, std::string> row;
    while (true) {
      while (i < json.size() &&
             (json[i] == ' ' || json[i] == '\n' || json[i] == '\t' ||
              json[i] == '\r' || json[i] == ',')) {
        ++i;
      }
      if (i >= json.size()) return Error("vgs report: unterminated object");
      if (json[i] == '}') {
        ++i;
        break;
      }
      std::string key, value;
      if (!ReadJsonString(json, i, key))
        return Error("vgs report: expected a key");
      while (i < json.size() && (json[i] == ' ' || json[i] == ':')) ++i;
      if (!ReadJsonString(json, i, value)) {
        return Error("vgs report: expected a string value for " + key);
      }
      row[key] = value;
    }
    rows.push_back(std::move(row));
  }
  return Error("vgs report: unterminated \"vg\" array");
}

}  // namespace

Expected<VolumeGroupInfo> ParseVgsReport(std::string_view json,
                                         std::string_view vg_name) {
  HOSTISO_ASSIGN_OR_RETURN(const auto rows, VgRows(json));
  VolumeGroupInfo vg;
  bool found = false;
  for (const auto& row : rows) {
    auto name = row.find("vg_name");
    if (name == row.end() || name->second != vg_name) continue;
    auto size = row.find("vg_size");
    auto free = row.find("vg_free");
    std::optional<std::uint64_t> s, f;
    if (size != row.end()) s = ParseUint(TrimSpace(size->second));
    if (free != row.end()) f = ParseUint(TrimSpace(free->second));
    if (!s || !f) {
      return Error("vgs report: vg_size/vg_free of " + std::string(vg_name) +
                   " are not byte counts (need --units b --nosuffix)");
    }
    found = true;
    vg.name = name->second;
    vg.size_bytes = *s;
    vg.free_bytes = *f;
    auto pv = row.find("pv_name");
    if (pv != row.end() && pv->second.starts_with("/"))
      vg.physical_volumes.push_back(pv->second);
  }
  if (!found)
    return Error("volume group " + std::string(vg_name) + " not found");
  return vg;
}

std::vector<std::string> VgsCommand(const std::string& vgs_binary,
                                    const std::string& vg_name) {
  return {vgs_binary,   "--readonly", "--reportformat",
          "json",       "--units",    "b",
          "--nosuffix", "-o",         "vg_name,vg_size,vg_free,pv_name",
          "--",         vg_name};
}

namespace {

std::string FindBinary(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  std::string path;
  if (const char* p = std::getenv("PATH")) path = p;
  // Daemons often run with a PATH that lacks the sbin directories.
  path += ":/usr/sbin:/sbin";
  for (std::string_view dir : Split(path, ':')) {
    if (dir.empty()) continue;
    std::string candidate = std::string(dir) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

void CloseFd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

}  // namespace

namespace {

// A child with its stdout and stderr on pipes we read.
struct Spawned {
  pid_t pid = 0;
  int out_fd = -1;
  int err_fd = -1;
};

// The environment with LVM_SUPPRESS_FD_WARNINGS=1: LVM complains on stderr
// about every inherited descriptor that is not close-on-exec (the HTTP
// server's sockets), harmless.
std::vector<std::string> LvmEnvironment() {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    if (std::strncmp(*e, "LVM_SUPPRESS_FD_WARNINGS=", 25) != 0)
      env.emplace_back(*e);
  }
  env.emplace_back("LVM_SUPPRESS_FD_WARNINGS=1");
  return env;
}

Expected<Spawned> Spawn(const std::string& binary,
                        const std::vector<std::string>& argv) {
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0)
    return Error(std::string("pipe: ") + std::strerror(errno));
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    int e = errno;
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return Error(std::string("pipe: ") + std::strerror(e));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args[0] = const_cast<char*>(binary.c_str());
  args.push_back(nullptr);
  std::vector<std::string> env = LvmEnvironment();
  std::vector<char*> envp;
  envp.reserve(env.size() + 1);
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  Spawned child;
  int rc = ::posix_spawn(&child.pid, binary.c_str(), &actions, nullptr,
                         args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  child.out_fd = out_pipe[0];
  child.err_fd = err_pipe[0];
  if (rc != 0) {
    CloseFd(child.out_fd);
    CloseFd(child.err_fd);
    return Error(binary + ": " + std::strerror(rc));
  }
  return child;
}

// Reads both pipes until they close or the deadline passes (true then). Each
// output is capped: a runaway command cannot grow the exporter's memory.
bool ReadOutputs(Spawned& child, std::chrono::steady_clock::time_point deadline,
                 std::string& out, std::string& err) {
  constexpr std::size_t kMaxOutput = std::size_t{16} << 20;
  while (child.out_fd >= 0 || child.err_fd >= 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return true;
    struct pollfd fds[2] = {{child.out_fd, POLLIN, 0},
                            {child.err_fd, POLLIN, 0}};
    int n = ::poll(fds, 2, static_cast<int>(left.count()));
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    for (int k = 0; k < 2; ++k) {
      int& fd = k == 0 ? child.out_fd : child.err_fd;
      std::string& sink = k == 0 ? out : err;
      if (fd < 0 || fds[k].revents == 0) continue;
      char buf[4096];
      ssize_t r = ::read(fd, buf, sizeof(buf));
      if (r > 0 && sink.size() < kMaxOutput) {
        sink.append(buf, static_cast<std::size_t>(r));
      } else if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN)) {
        CloseFd(fd);
      }
    }
  }
  return false;
}

// Waits for the child until the deadline, then kills it. The exit status;
// `timed_out` set when it had to be killed.
int Reap(pid_t pid, std::chrono::steady_clock::time_point deadline,
         bool& timed_out) {
  int status = 0;
  while (true) {
    pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid) return status;
    if (w < 0 && errno != EINTR) return status;
    if (timed_out || std::chrono::steady_clock::now() >= deadline) {
      timed_out = true;
      ::kill(pid, SIGKILL);
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      return status;
    }
    struct timespec ts {
      0, 5'000'000L
    };
    ::nanosleep(&ts, nullptr);
  }
}

// "vgs: exit status 5: <first line of stderr>".
Error DescribeFailure(const std::string& name, int status,
                      const std::string& err) {
  std::string first;
  for (std::string_view line : Split(err, '\n')) {
    if (!TrimSpace(line).empty()) {
      first = std::string(TrimSpace(line));
      break;
    }
  }
  std::string how =
      WIFEXITED(status)
          ? "exit status " + std::to_string(WEXITSTATUS(status))
          : "killed by signal " + std::to_string(WTERMSIG(status));
  return Error(name + ": " + how + (first.empty() ? "" : ": " + first));
}

}  // namespace

Expected<std::string> RunCommand(const std::vector<std::string>& argv,
                                 std::chrono::milliseconds timeout) {
  if (argv.empty()) return Error("empty command");
  const std::string binary = FindBinary(argv[0]);
  if (binary.empty())
    return Error(argv[0] + ": not found in PATH, /usr/sbin or /sbin");
  HOSTISO_ASSIGN_OR_RETURN(Spawned child, Spawn(binary, argv));
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string out, err;
  bool timed_out = ReadOutputs(child, deadline, out, err);
  CloseFd(child.out_fd);
  CloseFd(child.err_fd);
  // The child closed its output; it may still be running (or the deadline
  // passed): wait for it until the deadline, then kill it.
  const int status = Reap(child.pid, deadline, timed_out);
  if (timed_out) {
    return Error(argv[0] + ": no answer within " +
                 std::to_string(timeout.count()) + " ms, killed");
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return out;
  return DescribeFailure(argv[0], status, err);
}

}  // namespace hostiso
