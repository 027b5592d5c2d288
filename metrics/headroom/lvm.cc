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
  using Result = Expected<std::vector<std::map<std::string, std::string>>>;
  std::size_t pos = json.find("\"vg\"");
  if (pos == std::string_view::npos)
    return Result::Error("vgs report has no \"vg\" section");
  pos = json.find('[', pos);
  if (pos == std::string_view::npos)
    return Result::Error("vgs report: \"vg\" is not an array");
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
      if (i >= json.size())
        return Result::Error("vgs report: unterminated object");
      if (json[i] == '}') {
        ++i;
        break;
      }
      std::string key, value;
      if (!ReadJsonString(json, i, key))
        return Result::Error("vgs report: expected a key");
      while (i < json.size() && (json[i] == ' ' || json[i] == ':')) ++i;
      if (!ReadJsonString(json, i, value)) {
        return Result::Error("vgs report: expected a string value for " + key);
      }
      row[key] = value;
    }
    rows.push_back(std::move(row));
  }
  return Result::Error("vgs report: unterminated \"vg\" array");
}

}  // namespace

Expected<VolumeGroupInfo> ParseVgsReport(std::string_view json,
                                         std::string_view vg_name) {
  using Result = Expected<VolumeGroupInfo>;
  auto rows = VgRows(json);
  if (!rows) return Result::Error(rows.error());
  VolumeGroupInfo vg;
  bool found = false;
  for (const auto& row : *rows) {
    auto name = row.find("vg_name");
    if (name == row.end() || name->second != vg_name) continue;
    auto size = row.find("vg_size");
    auto free = row.find("vg_free");
    std::optional<std::uint64_t> s, f;
    if (size != row.end()) s = ParseUint(TrimSpace(size->second));
    if (free != row.end()) f = ParseUint(TrimSpace(free->second));
    if (!s || !f) {
      return Result::Error("vgs report: vg_size/vg_free of " +
                           std::string(vg_name) +
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
    return Result::Error("volume group " + std::string(vg_name) + " not found");
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

Expected<std::string> RunCommand(const std::vector<std::string>& argv,
                                 std::chrono::milliseconds timeout) {
  using Result = Expected<std::string>;
  if (argv.empty()) return Result::Error("empty command");
  const std::string binary = FindBinary(argv[0]);
  if (binary.empty())
    return Result::Error(argv[0] + ": not found in PATH, /usr/sbin or /sbin");

  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0)
    return Result::Error(std::string("pipe: ") + std::strerror(errno));
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    int e = errno;
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return Result::Error(std::string("pipe: ") + std::strerror(e));
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
  // LVM complains on stderr about every inherited descriptor that is not
  // close-on-exec (the HTTP server's sockets): harmless, silenced.
  std::vector<std::string> env_store;
  for (char** e = environ; e && *e; ++e) {
    if (std::strncmp(*e, "LVM_SUPPRESS_FD_WARNINGS=", 25) != 0)
      env_store.emplace_back(*e);
  }
  env_store.emplace_back("LVM_SUPPRESS_FD_WARNINGS=1");
  std::vector<char*> envp;
  envp.reserve(env_store.size() + 1);
  for (std::string& e : env_store) envp.push_back(e.data());
  envp.push_back(nullptr);

  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, binary.c_str(), &actions, nullptr, args.data(),
                         envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  int out_fd = out_pipe[0], err_fd = err_pipe[0];
  if (rc != 0) {
    CloseFd(out_fd);
    CloseFd(err_fd);
    return Result::Error(binary + ": " + std::strerror(rc));
  }

  std::string out, err;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool timed_out = false;
  while (out_fd >= 0 || err_fd >= 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    struct pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
    int n = ::poll(fds, 2, static_cast<int>(left.count()));
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int k = 0; k < 2; ++k) {
      int& fd = k == 0 ? out_fd : err_fd;
      if (fd < 0 || fds[k].revents == 0) continue;
      char buf[4096];
      ssize_t r = ::read(fd, buf, sizeof(buf));
      if (r > 0) {
        (k == 0 ? out : err).append(buf, static_cast<std::size_t>(r));
      } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
        CloseFd(fd);
      }
    }
  }
  CloseFd(out_fd);
  CloseFd(err_fd);
  // The child closed its output; it may still be running (or the deadline
  // passed): wait for it until the deadline, then kill it.
  int status = 0;
  while (true) {
    pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (w < 0 && errno != EINTR) break;
    if (timed_out || std::chrono::steady_clock::now() >= deadline) {
      timed_out = true;
      ::kill(pid, SIGKILL);
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      break;
    }
    struct timespec ts {
      0, 5'000'000L
    };
    ::nanosleep(&ts, nullptr);
  }
  if (timed_out) {
    return Result::Error(argv[0] + ": no answer within " +
                         std::to_string(timeout.count()) + " ms, killed");
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return out;
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
  return Result::Error(argv[0] + ": " + how +
                       (first.empty() ? "" : ": " + first));
}

}  // namespace hostiso
