#include "metrics/procfs/kept_files.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <thread>
#include <utility>

#include "metrics/testing/temp_tree.h"
#include "metrics/testing/threads.h"

namespace hostiso {
namespace {

using File = KeptProcFiles::File;

std::string Read(KeptProcFiles& kept, pid_t pid, pid_t tid, File file,
                 const std::string& path, int* opens) {
  char buf[128];
  const ssize_t n = kept.Read(
      pid, tid, file,
      [&] {
        ++*opens;
        return OpenFileAt(AT_FDCWD, path.c_str());
      },
      buf, sizeof(buf));
  return n < 0 ? "<error>" : std::string(buf, static_cast<std::size_t>(n));
}

TEST(KeptProcFiles, RereadsTheCurrentTextThroughOneDescriptor) {
  testing::TempTree dir;
  const std::string path = dir.Path("schedstat");
  dir.Write("schedstat", "1 2 3\n");
  KeptProcFiles kept(8);
  int opens = 0;
  EXPECT_EQ(Read(kept, 10, 11, File::kSchedstat, path, &opens), "1 2 3\n");
  // Rewritten in place, as procfs regenerates its text: the kept descriptor
  // reads the new text from offset 0, without opening again.
  dir.Write("schedstat", "4 5 6\n");
  EXPECT_EQ(Read(kept, 10, 11, File::kSchedstat, path, &opens), "4 5 6\n");
  EXPECT_EQ(opens, 1);
  EXPECT_EQ(kept.Size(), 1U);
}

// Two small files, a and b.
class KeptProcFilesTwo : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.Write("a", "a\n");
    dir_.Write("b", "b\n");
  }
  testing::TempTree dir_;
  const std::string a_ = dir_.Path("a");
  const std::string b_ = dir_.Path("b");
};

TEST_F(KeptProcFilesTwo, SweepClosesFilesNotReadSinceTheLastSweep) {
  KeptProcFiles kept(8);
  int opens = 0;
  Read(kept, 1, 1, File::kStat, a_, &opens);
  Read(kept, 2, 2, File::kStat, b_, &opens);
  kept.Sweep();
  Read(kept, 1, 1, File::kStat, a_, &opens);  // b left the inventory
  kept.Sweep();
  EXPECT_EQ(kept.Size(), 1U);
  EXPECT_EQ(opens, 2);
}

TEST_F(KeptProcFilesTwo, BeyondItsBudgetAFileIsReadButNotKept) {
  KeptProcFiles kept(1);
  int opens = 0;
  EXPECT_EQ(Read(kept, 1, 1, File::kStat, a_, &opens), "a\n");
  EXPECT_EQ(Read(kept, 2, 2, File::kStat, b_, &opens), "b\n");
  EXPECT_EQ(Read(kept, 2, 2, File::kStat, b_, &opens), "b\n");
  EXPECT_EQ(kept.Size(), 1U);
  EXPECT_EQ(opens, 3);
}

TEST(KeptProcFiles, MissingFileIsAnError) {
  KeptProcFiles kept(8);
  int opens = 0;
  EXPECT_EQ(Read(kept, 1, 1, File::kStatm, "/nonexistent/statm", &opens),
            "<error>");
  EXPECT_EQ(kept.Size(), 0U);
}

// On the real procfs: a kept descriptor of a thread that exited fails
// (ESRCH) and is dropped, so a thread reusing the id is never read through
// it; the file is then opened again by its path (gone too here).
TEST(KeptProcFiles, ExitedThreadIsNotReadThroughItsOldDescriptor) {
  pid_t tid = 0;
  KeptProcFiles kept(8);
  int opens = 0;
  std::string path;
  std::thread live([&] {
    const pid_t me = static_cast<pid_t>(::syscall(SYS_gettid));
    path = "/proc/self/task/" + std::to_string(me) + "/schedstat";
    tid = me;
    EXPECT_NE(Read(kept, ::getpid(), me, File::kSchedstat, path, &opens),
              "<error>");
  });
  live.join();
  ASSERT_TRUE(testing::WaitUntilThreadReleased(tid));
  ASSERT_EQ(kept.Size(), 1U);
  EXPECT_EQ(Read(kept, ::getpid(), tid, File::kSchedstat, path, &opens),
            "<error>");
  EXPECT_EQ(kept.Size(), 0U);
  EXPECT_EQ(opens, 2);
}

std::string Text(const Expected<std::string_view>& text) {
  return text ? std::string(*text) : "<error: " + text.error() + ">";
}

// One small counter file, "1\n", read through a KeptKernfsFiles.
class KeptKernfsCounter : public ::testing::Test {
 protected:
  void SetUp() override { dir_.Write("counter", "1\n"); }
  // The counter as `kept` reads it into a buffer of `cap` bytes (at most 16).
  std::string Read(KeptKernfsFiles& kept, std::size_t cap = 16) {
    char buf[16];
    return Text(
        kept.Read(dir_.Path("counter"), buf, std::min(cap, sizeof buf)));
  }
  testing::TempTree dir_;
};

TEST_F(KeptKernfsCounter, RereadsTheCurrentTextThroughOneDescriptor) {
  KeptKernfsFiles kept(KeepFiles::kAlways);
  EXPECT_EQ(Read(kept), "1\n");
  EXPECT_EQ(kept.Size(), 1U);
  dir_.Write("counter", "22\n");  // rewritten in place, as kernfs does
  EXPECT_EQ(Read(kept), "22\n");
  EXPECT_EQ(kept.Size(), 1U);
}

TEST_F(KeptKernfsCounter, KeepsNothingOnAFixtureTree) {
  KeptKernfsFiles kept;  // kOnKernelFs: the tree is no sysfs or cgroupfs
  EXPECT_EQ(Read(kept), "1\n");
  EXPECT_EQ(kept.Size(), 0U);
  // Replaced, as fixture and hostile tests do: the new file is read.
  dir_.Remove("counter");
  dir_.Write("counter", "2\n");
  EXPECT_EQ(Read(kept), "2\n");
}

TEST(KeptKernfsFiles, KeepsARealSysfsAttribute) {
  const std::string online = "/sys/devices/system/cpu/online";
  char fresh_buf[256];
  auto fresh = ReadSmallFile(online.c_str(), fresh_buf, sizeof fresh_buf);
  if (!fresh) GTEST_SKIP() << "no sysfs here: " << fresh.error();
  KeptKernfsFiles kept;
  char buf[256];
  EXPECT_EQ(Text(kept.Read(online, buf, sizeof buf)), std::string(*fresh));
  EXPECT_EQ(kept.Size(), 1U);
  EXPECT_EQ(Text(kept.Read(online, buf, sizeof buf)), std::string(*fresh));
}

// A kept file whose read fails is opened afresh, and the error is the one a
// new open gives (here: grown past the buffer), not a stale text.
TEST_F(KeptKernfsCounter, FailedReadIsReportedAsAFreshOpenWouldBe) {
  KeptKernfsFiles kept(KeepFiles::kAlways);
  EXPECT_EQ(Read(kept, 8), "1\n");
  dir_.Write("counter", "123456789012\n");
  EXPECT_EQ(Read(kept, 8),
            "<error: " + dir_.Path("counter") + ": larger than 8 bytes>");
  EXPECT_EQ(kept.Size(), 0U);
  char buf[8];
  auto missing = kept.Read(dir_.Path("none"), buf, sizeof buf);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.failure().code(), ENOENT);
}

TEST_F(KeptProcFilesTwo, KernfsSweepAndBudget) {
  char buf[8];
  KeptKernfsFiles kept(KeepFiles::kAlways);
  EXPECT_EQ(Text(kept.Read(a_, buf, sizeof buf)), "a\n");
  EXPECT_EQ(Text(kept.Read(b_, buf, sizeof buf)), "b\n");
  kept.Sweep();
  EXPECT_EQ(Text(kept.Read(a_, buf, sizeof buf)), "a\n");  // b no longer read
  kept.Sweep();
  EXPECT_EQ(kept.Size(), 1U);
  KeptKernfsFiles one(KeepFiles::kAlways, 1);
  EXPECT_EQ(Text(one.Read(a_, buf, sizeof buf)), "a\n");
  EXPECT_EQ(Text(one.Read(b_, buf, sizeof buf)), "b\n");  // read, not kept
  EXPECT_EQ(one.Size(), 1U);
  KeptKernfsFiles never(KeepFiles::kNever);
  EXPECT_EQ(Text(never.Read(a_, buf, sizeof buf)), "a\n");
  EXPECT_EQ(never.Size(), 0U);
}

// On a real cgroup hierarchy (root; v1 cpuacct, else cgroup2): a removed
// cgroup's kept file fails (ENODEV) and is opened afresh by its path, so a
// cgroup created again under the same name is read, and a gone one is absent
// (ENOENT).
TEST(KeptKernfsFiles, RemovedCgroupIsNotReadThroughItsOldDescriptor) {
  const std::string name = "/hostiso-kept-test-" + std::to_string(::getpid());
  std::string dir, usage;
  for (const auto& [root, file] :
       {std::pair{"/sys/fs/cgroup/cpuacct", "/cpuacct.usage"},
        std::pair{"/sys/fs/cgroup", "/cpu.stat"}}) {
    if (::mkdir((root + name).c_str(), 0755) == 0) {
      dir = root + name;
      usage = dir + file;
      break;
    }
  }
  if (dir.empty())
    GTEST_SKIP() << "cannot create a cgroup under /sys/fs/cgroup/cpuacct or "
                    "/sys/fs/cgroup (not root, or no cgroupfs)";
  KeptKernfsFiles kept;
  char buf[512];
  EXPECT_NE(Text(kept.Read(usage, buf, sizeof buf)).rfind("<error", 0), 0U);
  EXPECT_EQ(kept.Size(), 1U);
  ASSERT_EQ(::rmdir(dir.c_str()), 0);
  auto gone = kept.Read(usage, buf, sizeof buf);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.failure().code(), ENOENT);
  EXPECT_EQ(kept.Size(), 0U);
  // Created again under the same name: read (and kept) afresh.
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  EXPECT_NE(Text(kept.Read(usage, buf, sizeof buf)).rfind("<error", 0), 0U);
  EXPECT_EQ(kept.Size(), 1U);
  EXPECT_EQ(::rmdir(dir.c_str()), 0);
}

}  // namespace
}  // namespace hostiso
