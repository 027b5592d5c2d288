#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "metrics/expected.h"

namespace hostiso {

// Largest file ReadFile() accepts by default. /proc/interrupts on a host with
// 1,000+ CPUs is a few MiB; nothing the exporter reads is near 64 MiB, and the
// cap keeps a hostile or broken path (a device node, a growing file) from
// eating memory.
inline constexpr std::size_t kDefaultReadCap = std::size_t{64} << 20;

// Reads a whole kernel or config file. Bounded and non-blocking:
// - opened with O_NONBLOCK | O_NOCTTY, so a FIFO or a terminal can never hold
//   a scrape or shutdown;
// - only regular files (procfs and sysfs files are regular files of size 0):
//   a FIFO, a device node such as /dev/zero, a socket or a directory is an
//   error naming the path and its type;
// - at most `cap` bytes: a larger file is an error, not a truncated read;
// - procfs files report size 0, so it reads until EOF rather than trusting
//   stat().
// Errors name the path and the errno text (ELOOP for a symlink loop).
Expected<std::string> ReadFile(const std::string& path,
                               std::size_t cap = kDefaultReadCap);

// ReadFile + `parse(text)`, the parser's error prefixed with the path: one way
// to say "this file, and what was wrong with it".
template <typename Parser>
auto ReadAndParse(const std::string& path, Parser&& parse)
    -> decltype(parse(std::string())) {
  auto text = ReadFile(path);
  if (!text) return text.failure();
  return std::forward<Parser>(parse)(*text).WithContext(path);
}

// Reads at most `cap` bytes of a small file relative to `dirfd` into `buf`
// (the hot path: per-thread stat, schedstat and status files, thousands per
// census or scrape, with no allocation). Non-blocking like ReadFile. A read
// that returns less than asked for is the end of the file: procfs' seq_file
// and sysfs fill the buffer up to the end of the file in one read, as a
// regular file does, so the read(2) that would return 0 is saved (one system
// call of four per file). Returns the length, or -1 with errno set
// (ENOENT/ESRCH when the task exited, EFBIG when the file does not fit).
ssize_t ReadSmallFileAt(int dirfd, const char* rel, char* buf, std::size_t cap);

// ReadSmallFileAt's read on a descriptor kept open: from offset 0 with
// pread (procfs rebuilds a seq_file's text there), so the same descriptor
// reads the file's current text at every call. Returns the length, or -1 with
// errno set (ESRCH once the file's task exited; ESPIPE for a pipe).
ssize_t PreadSmallFile(int fd, char* buf, std::size_t cap);

// ReadSmallFileAt for the few small kernel files read at every scrape (a node's
// meminfo, huge page counters, cgroup cpuset and cpu.stat files), with
// ReadFile's errors: open, one read into `buf` (no allocation; a short read is
// the end of the file, as for ReadSmallFileAt), close, and no fstat on the way
// to success. The text is returned as a view into `buf`. Errors name the path:
// the errno text (code() is the errno: ENOENT for a missing file), "larger than
// `cap` bytes" for a file that does not fit, and for a FIFO, device, socket or
// directory its type. The type is checked (fstat) only when the read failed,
// overflowed or was empty: a FIFO without a writer reads as an empty file,
// which would otherwise parse as an empty value. Unlike ReadFile, a FIFO whose
// writer has already written is read like a file: sysfs and cgroupfs cannot
// hold FIFOs, and whoever can plant one under --path.sysfs can as well write a
// regular file.
Expected<std::string_view> ReadSmallFile(const char* path, char* buf,
                                         std::size_t cap);

// "<id>/<leaf>" ("4242/stat") into `buf` of `cap` bytes, without allocating:
// the per-task paths of the hot loops. `leaf` must fit (callers use fixed
// short leaves).
const char* IdPath(char* buf, std::size_t cap, long id, const char* leaf);

// An owned file descriptor, closed when it goes out of scope.
class UniqueFd {
 public:
  explicit UniqueFd(int fd = -1) : fd_(fd) {}
  ~UniqueFd();
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }

 private:
  int fd_;
};

// A directory opened for openat-relative reads (invalid when it cannot be
// opened, e.g. the process exited).
UniqueFd OpenDirAt(int at, const char* rel);

// ReadSmallFile that hands its open descriptor to `opened` when the read
// succeeded (the caller keeps it and reads again with PreadSmallFile).
Expected<std::string_view> ReadSmallFile(const char* path, char* buf,
                                         std::size_t cap, UniqueFd* opened);

// A small kernel file opened for reading relative to `at` as ReadSmallFileAt
// opens it (non-blocking, close-on-exec); invalid with errno set when it
// cannot be opened.
UniqueFd OpenFileAt(int at, const char* rel);

// The identity of a file for change detection (nova.conf, the web config and
// its certificates): a replaced or rewritten file differs in device, inode,
// size, mtime or ctime. A missing file has exists=false.
struct FileStamp {
  bool exists = false;
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = 0;
  std::int64_t mtime_ns = 0;
  std::int64_t ctime_ns = 0;
  bool operator==(const FileStamp&) const = default;
};
FileStamp StampOf(const std::string& path);

// Joins a root such as --path.procfs with a relative path ("stat").
std::string JoinPath(const std::string& root, const std::string& rel);

}  // namespace hostiso
