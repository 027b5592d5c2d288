#include "metrics/headroom/lvm.h"

#include <gtest/gtest.h>

namespace hostiso {
namespace {

// Output of lvm2 2.03.16 (Debian 12) for a VG on two loop devices.
constexpr const char* kTwoPvs = R"(  {
      "report": [
          {
              "vg": [
                  {"vg_name":"nova-vg", "vg_size":"125829120", "vg_free":"41943040", "pv_name":"/dev/loop0"},
                  {"vg_name":"nova-vg", "vg_size":"125829120", "vg_free":"41943040", "pv_name":"/dev/loop1"}
              ]
          }
      ]
  }
)";

TEST(VgsReportTest, ParsesSizesAndPvs) {
  auto vg = ParseVgsReport(kTwoPvs, "nova-vg");
  ASSERT_TRUE(vg) << vg.error();
  EXPECT_EQ(vg->name, "nova-vg");
  EXPECT_EQ(vg->size_bytes, 125829120U);
  EXPECT_EQ(vg->free_bytes, 41943040U);
  EXPECT_EQ(vg->physical_volumes,
            (std::vector<std::string>{"/dev/loop0", "/dev/loop1"}));
}

TEST(VgsReportTest, MissingGroupAndBadUnits) {
  auto empty = ParseVgsReport(R"({"report":[{"vg":[]}]})", "nova-vg");
  ASSERT_FALSE(empty);
  EXPECT_NE(empty.error().find("not found"), std::string::npos);
  auto units = ParseVgsReport(
      R"({"report":[{"vg":[{"vg_name":"v","vg_size":"<1.00g","vg_free":"0B","pv_name":""}]}]})",
      "v");
  ASSERT_FALSE(units);
  EXPECT_NE(units.error().find("--units b"), std::string::npos);
  EXPECT_FALSE(ParseVgsReport("Volume group not found", "v"));
  EXPECT_FALSE(ParseVgsReport(R"({"report":[{"vg":[{"vg_name":"v")", "v"));
}

TEST(VgsReportTest, MissingPvAndEscapes) {
  auto vg = ParseVgsReport(
      R"({"report":[{"vg":[{"vg_name":"a\"b", "vg_size":"10", "vg_free":"5", "pv_name":"[unknown]"}]}]})",
      "a\"b");
  ASSERT_TRUE(vg) << vg.error();
  EXPECT_TRUE(vg->physical_volumes.empty());
  EXPECT_EQ(vg->free_bytes, 5U);
}

TEST(VgsCommandTest, ReadOnlyJsonInBytes) {
  auto argv = VgsCommand("vgs", "nova-vg");
  ASSERT_GE(argv.size(), 3U);
  EXPECT_EQ(argv.front(), "vgs");
  EXPECT_EQ(argv.back(), "nova-vg");
  EXPECT_EQ(argv[argv.size() - 2], "--");
  EXPECT_NE(std::find(argv.begin(), argv.end(), "--readonly"), argv.end());
  EXPECT_NE(std::find(argv.begin(), argv.end(), "--nosuffix"), argv.end());
}

TEST(RunCommandTest, StdoutOnSuccess) {
  auto out = RunCommand({"sh", "-c", "echo hello; echo noise >&2"},
                        std::chrono::seconds(5));
  ASSERT_TRUE(out) << out.error();
  EXPECT_EQ(*out, "hello\n");
}

TEST(RunCommandTest, ExitStatusAndStderrOnFailure) {
  auto out = RunCommand(
      {"sh", "-c", "echo '  Volume group \"x\" not found' >&2; exit 5"},
      std::chrono::seconds(5));
  ASSERT_FALSE(out);
  EXPECT_NE(out.error().find("exit status 5"), std::string::npos)
      << out.error();
  EXPECT_NE(out.error().find("Volume group \"x\" not found"), std::string::npos)
      << out.error();
}

TEST(RunCommandTest, TimeoutKills) {
  const auto start = std::chrono::steady_clock::now();
  auto out = RunCommand({"sleep", "10"}, std::chrono::milliseconds(200));
  ASSERT_FALSE(out);
  EXPECT_NE(out.error().find("killed"), std::string::npos) << out.error();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

TEST(RunCommandTest, MissingBinary) {
  auto out = RunCommand({"hostiso-no-such-binary"}, std::chrono::seconds(1));
  ASSERT_FALSE(out);
  EXPECT_NE(out.error().find("not found"), std::string::npos);
}

}  // namespace
}  // namespace hostiso
