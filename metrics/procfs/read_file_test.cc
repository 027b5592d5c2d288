#include "metrics/procfs/read_file.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "metrics/testing/temp_tree.h"

namespace hostiso {
namespace {

TEST(ReadFileTest, RegularFileAndMissingFile) {
  testing::TempTree t;
  t.Write("a", "hello\n");
  auto ok = ReadFile(t.Path("a"));
  ASSERT_TRUE(ok) << ok.error();
  EXPECT_EQ(*ok, "hello\n");
  auto missing = ReadFile(t.Path("b"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.failure().code(), ENOENT);
  EXPECT_NE(missing.error().find(t.Path("b")), std::string::npos);
}

TEST(ReadFileTest, FifoIsRefusedWithoutBlocking) {
  testing::TempTree t;
  ASSERT_EQ(::mkfifo(t.Path("fifo").c_str(), 0600), 0);
  const auto start = std::chrono::steady_clock::now();
  auto r = ReadFile(t.Path("fifo"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("a FIFO, expected a regular file"),
            std::string::npos)
      << r.error();
  // A FIFO with a writer that never writes must not block either.
  int writer = ::open(t.Path("fifo").c_str(), O_RDWR | O_NONBLOCK);
  ASSERT_GE(writer, 0);
  char buf[16];
  int dir = ::open(t.Root().c_str(), O_RDONLY | O_DIRECTORY);
  EXPECT_EQ(ReadSmallFileAt(dir, "fifo", buf, sizeof(buf)), -1);
  ::close(dir);
  ::close(writer);
}

TEST(ReadFileTest, DevicesDirectoriesAndSymlinkLoopsAreErrors) {
  auto zero = ReadFile("/dev/zero");
  ASSERT_FALSE(zero);
  EXPECT_NE(zero.error().find("character device"), std::string::npos);
  testing::TempTree t;
  t.MakeDir("d");
  EXPECT_NE(ReadFile(t.Path("d")).error().find("a directory"),
            std::string::npos);
  ASSERT_EQ(::symlink(t.Path("loop").c_str(), t.Path("loop").c_str()), 0);
  auto loop = ReadFile(t.Path("loop"));
  ASSERT_FALSE(loop);
  EXPECT_EQ(loop.failure().code(), ELOOP);
}

TEST(ReadFileTest, SizeCapIsAnErrorNotATruncation) {
  testing::TempTree t;
  t.Write("big", std::string(100, 'x'));
  EXPECT_TRUE(ReadFile(t.Path("big"), 100));
  auto r = ReadFile(t.Path("big"), 99);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("larger than 99 bytes"), std::string::npos);
  char buf[99];
  int dir = ::open(t.Root().c_str(), O_RDONLY | O_DIRECTORY);
  errno = 0;
  EXPECT_EQ(ReadSmallFileAt(dir, "big", buf, sizeof(buf)), -1);
  EXPECT_EQ(errno, EFBIG);
  ::close(dir);
}

TEST(ReadFileTest, ReadAndParseNamesThePath) {
  testing::TempTree t;
  t.Write("n", "x");
  auto r = ReadAndParse(t.Path("n"), [](std::string_view) -> Expected<int> {
    return Error("expected a number");
  });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), t.Path("n") + ": expected a number");
}

TEST(ReadSmallFileTest, ReadsIntoTheBufferWithReadFilesErrors) {
  testing::TempTree t;
  char buf[8];
  t.Write("a", "1234\n");
  auto ok = ReadSmallFile(t.Path("a").c_str(), buf, sizeof buf);
  ASSERT_TRUE(ok) << ok.error();
  EXPECT_EQ(*ok, "1234\n");
  EXPECT_EQ(ok->data(), buf);
  t.Write("exact", "1234567\n");  // exactly the buffer
  EXPECT_EQ(*ReadSmallFile(t.Path("exact").c_str(), buf, sizeof buf),
            "1234567\n");
  t.Write("empty", "");
  EXPECT_EQ(ReadSmallFile(t.Path("empty").c_str(), buf, sizeof buf)->size(),
            0U);
  t.Write("long", "123456789\n");
  auto lng = ReadSmallFile(t.Path("long").c_str(), buf, sizeof buf);
  ASSERT_FALSE(lng);
  EXPECT_EQ(lng.failure().code(), EFBIG);
  EXPECT_EQ(lng.error(), t.Path("long") + ": larger than 8 bytes");
  auto missing = ReadSmallFile(t.Path("b").c_str(), buf, sizeof buf);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.failure().code(), ENOENT);
  EXPECT_NE(missing.error().find(t.Path("b")), std::string::npos);
}

TEST(ReadSmallFileTest, FifoDeviceAndDirectoryAreNamedByType) {
  testing::TempTree t;
  char buf[64];
  ASSERT_EQ(::mkfifo(t.Path("fifo").c_str(), 0600), 0);
  const auto start = std::chrono::steady_clock::now();
  auto fifo = ReadSmallFile(t.Path("fifo").c_str(), buf, sizeof buf);
  ASSERT_FALSE(fifo);
  EXPECT_EQ(fifo.error(), t.Path("fifo") + ": a FIFO, expected a regular file");
  // With a writer that never writes: no blocking, the same error.
  int writer = ::open(t.Path("fifo").c_str(), O_RDWR | O_NONBLOCK);
  ASSERT_GE(writer, 0);
  fifo = ReadSmallFile(t.Path("fifo").c_str(), buf, sizeof buf);
  ::close(writer);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  ASSERT_FALSE(fifo);
  EXPECT_NE(fifo.error().find("a FIFO"), std::string::npos) << fifo.error();
  auto zero = ReadSmallFile("/dev/zero", buf, sizeof buf);
  ASSERT_FALSE(zero);
  EXPECT_NE(zero.error().find("a character device"), std::string::npos);
  t.MakeDir("d");
  auto dir = ReadSmallFile(t.Path("d").c_str(), buf, sizeof buf);
  ASSERT_FALSE(dir);
  EXPECT_NE(dir.error().find("a directory"), std::string::npos);
}

}  // namespace
}  // namespace hostiso
