#include "exporter/flags.h"

#include <gtest/gtest.h>

namespace hostiso {
namespace {

TEST(FlagsTest, Defaults) {
  auto f = ParseFlags({});
  ASSERT_TRUE(f.ok()) << f.error();
  EXPECT_EQ(f->listen_addresses, std::vector<std::string>{":9933"});
  EXPECT_EQ(f->web_max_requests, 40U);
  EXPECT_TRUE(f->web_config_file.empty());
  EXPECT_EQ(f->telemetry_path, "/metrics");
  EXPECT_EQ(f->procfs, "/proc");
  EXPECT_EQ(f->nova_config, "/etc/nova/nova.conf");
  EXPECT_FALSE(f->nova_config_explicit);
  EXPECT_FALSE(f->guest_cpus);
  EXPECT_EQ(f->collectors.count("cpu"), 1U);
  EXPECT_EQ(f->collectors.count("isolation"), 1U);
}

TEST(FlagsTest, BothValueForms) {
  auto f = ParseFlags({"--web.listen-address=127.0.0.1:1234", "--path.procfs",
                       "/x/proc", "--isolation.guest-cpus=1-3,^2",
                       "--log.format=json", "--nova.config=/n"});
  ASSERT_TRUE(f.ok()) << f.error();
  EXPECT_EQ(f->listen_addresses, std::vector<std::string>{"127.0.0.1:1234"});
  EXPECT_EQ(f->procfs, "/x/proc");
  EXPECT_EQ(f->guest_cpus->ToString(), "1,3");
  EXPECT_EQ(f->log_format, log::Format::kJson);
  EXPECT_TRUE(f->nova_config_explicit);
}

TEST(FlagsTest, CollectorToggles) {
  auto f = ParseFlags({"--no-collector.cpu"});
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->collectors.count("cpu"), 0U);
  auto g = ParseFlags({"--collector.cpu", "--collector.disable-defaults"});
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->collectors, (std::set<std::string>{"cpu"}));
  auto h = ParseFlags({"--collector.isolation=false"});
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->collectors.count("isolation"), 0U);
}

TEST(FlagsTest, ErrorsAreOneClearLine) {
  struct Case {
    std::vector<std::string> args;
    const char* want;
  };
  const Case cases[] = {
      {{"--bogus"}, "unknown flag --bogus"},
      {{"--collector.nosuch"}, "unknown collector in --collector.nosuch"},
      {{"--web.listen-address=:99999"}, "invalid port '99999'"},
      {{"--web.listen-address=nohost"}, "expected [host]:port"},
      {{"--web.listen-address=my.host:80"}, "expected an IP address"},
      {{"--isolation.guest-cpus=5-1"},
       "--isolation.guest-cpus: invalid CPU list '5-1'"},
      {{"--isolation.guest-cpus="}, "expected at least one CPU"},
      {{"--log.level=loud"},
       "--log.level: expected debug, info, warn or error"},
      {{"--log.format=xml"}, "--log.format: expected logfmt or json"},
      {{"--path.procfs"}, "--path.procfs: expected a value"},
      {{"--web.telemetry-path=metrics"}, "expected a path starting with '/'"},
      {{"--version=yes"}, "expected no value, =true or =false"},
      {{"positional"}, "unexpected argument 'positional'"},
      {{"--no-path.procfs"}, "unknown flag --no-path.procfs"},
  };
  for (const Case& c : cases) {
    auto f = ParseFlags(c.args);
    ASSERT_FALSE(f.ok()) << c.args[0];
    EXPECT_NE(f.error().find(c.want), std::string::npos) << f.error();
    EXPECT_EQ(f.error().find('\n'), std::string::npos);
  }
}

TEST(FlagsTest, ListenAddressesRepeat) {
  auto f = ParseFlags({"--web.listen-address=127.0.0.1:1",
                       "--web.listen-address", "[::1]:2",
                       "--web.config.file=/w.yml", "--web.max-requests=0"});
  ASSERT_TRUE(f.ok()) << f.error();
  EXPECT_EQ(f->listen_addresses,
            (std::vector<std::string>{"127.0.0.1:1", "[::1]:2"}));
  EXPECT_EQ(f->web_config_file, "/w.yml");
  EXPECT_EQ(f->web_max_requests, 0U);
}

TEST(FlagsTest, ListenAddressesAreValidated) {
  for (const char* bad :
       {"999.1.1.1:9933", "1.2.3:9933", "[::1:9933", "::1:9933", "[fe80::zz]:1",
        "host.example:9933", "127.0.0.1:0", "127.0.0.1:65536",
        "127.0.0.1:", "9933", "127.0.0.1:+80"}) {
    auto f = ParseFlags({std::string("--web.listen-address=") + bad});
    EXPECT_FALSE(f.ok()) << bad;
  }
}

TEST(FlagsTest, CgroupFlags) {
  auto f = ParseFlags({});
  ASSERT_TRUE(f.ok()) << f.error();
  EXPECT_TRUE(f->cgroupfs.empty());
  EXPECT_TRUE(f->cgroup_host_slices.empty());
  EXPECT_EQ(f->collectors.count("cgroup"), 1U);
  f = ParseFlags({"--path.cgroupfs=/host/cgroup", "--cgroup.host-slice",
                  "ovs.slice,system.slice/ovs-vswitchd.service",
                  "--cgroup.host-slice=hostiso-test-1.slice"});
  ASSERT_TRUE(f.ok()) << f.error();
  EXPECT_EQ(f->cgroupfs, "/host/cgroup");
  EXPECT_EQ(f->cgroup_host_slices,
            (std::vector<std::string>{"ovs.slice",
                                      "system.slice/ovs-vswitchd.service",
                                      "hostiso-test-1.slice"}));
}

TEST(FlagsTest, CgroupHostSlicesStayUnderTheRoot) {
  for (const char* bad : {"", "/system.slice", "..", "a/../..", "a//b", "./a",
                          "a/", "ok.slice,,b"}) {
    auto f = ParseFlags({std::string("--cgroup.host-slice=") + bad});
    ASSERT_FALSE(f.ok()) << bad;
    EXPECT_EQ(f.error().rfind("--cgroup.host-slice: ", 0), 0U) << f.error();
    EXPECT_EQ(f.error().find('\n'), std::string::npos);
  }
  EXPECT_FALSE(ParseFlags({"--path.cgroupfs="}).ok());
}

TEST(FlagsTest, HelpListsFlagsAndCollectors) {
  std::string help = HelpText();
  for (const char* s :
       {"--web.listen-address", "--path.sysfs", "--nova.config",
        "--isolation.guest-cpus", "--[no-]version", "cpu [default on]"}) {
    EXPECT_NE(help.find(s), std::string::npos) << s;
  }
}

}  // namespace
}  // namespace hostiso
