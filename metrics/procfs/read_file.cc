#include "metrics/procfs/read_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

namespace hostiso {
namespace {

const char* FileTypeName(mode_t mode) {
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

Error ErrnoError(const std::string& path, int err) {
  return Error(path + ": " + std::strerror(err), err);
}

}  // namespace

Expected<std::string> ReadFile(const std::string& path, std::size_t cap) {
  UniqueFd fd(
      ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (fd.get() < 0) return ErrnoError(path, errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return ErrnoError(path, errno);
  if (!S_ISREG(st.st_mode))
    return Error(path + ": " + FileTypeName(st.st_mode) +
                 ", expected a regular file");
  std::string out;
  char buf[16384];
  while (true) {
    ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(path, errno);
    }
    if (n == 0) break;
    if (out.size() + static_cast<std::size_t>(n) > cap)
      return Error(path + ": larger than " + std::to_string(cap) + " bytes");
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

namespace {

// Reads `fd` into `buf` until EOF, a short read or `cap` bytes (see
// ReadSmallFileAt in the header). Returns the length, or -1 with errno set
// (EFBIG when more than `cap` bytes follow: a truncated line would parse into
// wrong numbers).
// How the small kernel files are opened: never blocking on a FIFO, never
// becoming the controlling terminal, never inherited by a child.
constexpr int kSmallFileFlags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;

// The loop of ReadAllInto and PreadSmallFile: `read_at(p, n, offset)` reads
// at most n bytes at `offset` of the file (read(2) ignores the offset and
// reads on from the file position, pread(2) reads there).
template <typename ReadAt>
ssize_t ReadAllWith(const ReadAt& read_at, char* buf, std::size_t cap) {
  std::size_t used = 0;
  while (used < cap) {
    ssize_t n = read_at(buf + used, cap - used, static_cast<off_t>(used));
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (n == 0) break;
    const bool short_read = static_cast<std::size_t>(n) < cap - used;
    used += static_cast<std::size_t>(n);
    if (short_read) break;  // the end of the file (see the header)
  }
  if (used == cap) {
    char extra = 0;
    if (read_at(&extra, 1, static_cast<off_t>(used)) != 0) {
      errno = EFBIG;
      return -1;
    }
  }
  return static_cast<ssize_t>(used);
}

ssize_t ReadAllInto(int fd, char* buf, std::size_t cap) {
  return ReadAllWith(
      [fd](char* p, std::size_t n, off_t) { return ::read(fd, p, n); }, buf,
      cap);
}

}  // namespace

UniqueFd OpenFileAt(int at, const char* rel) {
  return UniqueFd(::openat(at, rel, kSmallFileFlags));
}

ssize_t ReadSmallFileAt(int dirfd, const char* rel, char* buf,
                        std::size_t cap) {
  int fd = ::openat(dirfd, rel, kSmallFileFlags);
  if (fd < 0) return -1;
  const ssize_t n = ReadAllInto(fd, buf, cap);
  const int saved = errno;
  ::close(fd);
  errno = saved;
  return n;
}

ssize_t PreadSmallFile(int fd, char* buf, std::size_t cap) {
  return ReadAllWith([fd](char* p, std::size_t n,
                          off_t offset) { return ::pread(fd, p, n, offset); },
                     buf, cap);
}

Expected<std::string_view> ReadSmallFile(const char* path, char* buf,
                                         std::size_t cap) {
  return ReadSmallFile(path, buf, cap, nullptr);
}

Expected<std::string_view> ReadSmallFile(const char* path, char* buf,
                                         std::size_t cap, UniqueFd* opened) {
  UniqueFd fd(::open(path, kSmallFileFlags));
  if (!fd.valid()) return ErrnoError(path, errno);
  // Usually one read(): a short read is the end of the file (ReadAllInto).
  const ssize_t n = ReadAllInto(fd.get(), buf, cap);
  if (n > 0) {
    if (opened != nullptr) *opened = std::move(fd);
    return std::string_view(buf, static_cast<std::size_t>(n));
  }
  const int err = n < 0 ? errno : 0;
  // Failed, too long or empty: say so by type when this is no regular file
  // (a FIFO without a writer reads as an empty file).
  struct stat st {};
  if (::fstat(fd.get(), &st) == 0 && !S_ISREG(st.st_mode))
    return Error(std::string(path) + ": " + FileTypeName(st.st_mode) +
                 ", expected a regular file");
  if (err == EFBIG)
    return Error(
        std::string(path) + ": larger than " + std::to_string(cap) + " bytes",
        EFBIG);
  if (err != 0) return ErrnoError(path, err);
  return std::string_view();  // an empty regular file
}

const char* IdPath(char* buf, std::size_t cap, long id, const char* leaf) {
  auto [end, ec] = std::to_chars(buf, buf + cap - 1, id);
  (void)ec;
  *end++ = '/';
  const std::size_t room = static_cast<std::size_t>(buf + cap - end);
  const std::size_t len = std::min(std::strlen(leaf), room - 1);
  std::memcpy(end, leaf, len);
  end[len] = '\0';
  return buf;
}

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

UniqueFd OpenDirAt(int at, const char* rel) {
  return UniqueFd(::openat(at, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
}

FileStamp StampOf(const std::string& path) {
  FileStamp s;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return s;
  s.exists = true;
  s.dev = st.st_dev;
  s.ino = st.st_ino;
  s.size = st.st_size;
  s.mtime_ns = st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
  s.ctime_ns = st.st_ctim.tv_sec * 1000000000LL + st.st_ctim.tv_nsec;
  return s;
}

std::string JoinPath(const std::string& root, const std::string& rel) {
  if (root.empty()) return rel;
  if (root.back() == '/') return root + rel;
  return root + "/" + rel;
}

}  // namespace hostiso
