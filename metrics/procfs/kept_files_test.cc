#include "metrics/procfs/kept_files.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "metrics/testing/temp_tree.h"

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
  ASSERT_EQ(kept.Size(), 1U);
  EXPECT_EQ(Read(kept, ::getpid(), tid, File::kSchedstat, path, &opens),
            "<error>");
  EXPECT_EQ(kept.Size(), 0U);
  EXPECT_EQ(opens, 2);
}

}  // namespace
}  // namespace hostiso
