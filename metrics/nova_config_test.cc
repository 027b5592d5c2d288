#include "metrics/nova_config.h"

#include <gtest/gtest.h>

namespace hostiso {
namespace {

NovaConfig MustParse(const std::string& text) {
  auto cfg = ParseNovaConfig(text, "nova.conf");
  EXPECT_TRUE(cfg.ok()) << cfg.error();
  return cfg.ok() ? *cfg : NovaConfig();
}

TEST(NovaConfigTest, NovaDefaultsWhenKeysAbsent) {
  NovaConfig c = MustParse("[DEFAULT]\n");
  EXPECT_FALSE(c.cpu_dedicated_set);
  EXPECT_FALSE(c.cpu_shared_set);
  EXPECT_FALSE(c.vcpu_pin_set);
  EXPECT_EQ(c.reserved_host_memory_mb, 512);
  EXPECT_EQ(c.reserved_host_disk_mb, 0);
  EXPECT_EQ(c.reserved_host_cpus, 0);
  EXPECT_DOUBLE_EQ(c.cpu_allocation_ratio, 4.0);
  EXPECT_DOUBLE_EQ(c.ram_allocation_ratio, 1.0);
  EXPECT_DOUBLE_EQ(c.disk_allocation_ratio, 1.0);
  EXPECT_EQ(c.instances_path, "/var/lib/nova/instances");
  EXPECT_EQ(c.snapshots_directory, "/var/lib/nova/instances/snapshots");
  EXPECT_EQ(c.images_type, "default");
  EXPECT_EQ(c.images_volume_group, "");
  EXPECT_TRUE(c.reserved_huge_pages.empty());
  // An empty file is a valid config too.
  EXPECT_EQ(MustParse("").reserved_host_memory_mb, 512);
}

TEST(NovaConfigTest, FullComputeConfig) {
  NovaConfig c = MustParse(
      "[DEFAULT]\n"
      "state_path = /srv/nova\n"
      "instances_path = $state_path/inst\n"
      "reserved_host_memory_mb = 4096\n"
      "reserved_host_disk_mb = 20480\n"
      "reserved_host_cpus = 2\n"
      "cpu_allocation_ratio = 2.5\n"
      "initial_ram_allocation_ratio = 1.5\n"
      "reserved_huge_pages = node:0,size:2048,count:64\n"
      "reserved_huge_pages = node:1,size:1GB,count:1\n"
      "[compute]\n"
      "cpu_dedicated_set = 4-15,^8\n"
      "cpu_shared_set = 2-3\n"
      "[libvirt]\n"
      "images_type = LVM\n"
      "images_volume_group = nova-vg\n"
      "snapshots_directory = ${instances_path}/snaps\n");
  EXPECT_EQ(c.cpu_dedicated_set->ToString(), "4-7,9-15");
  EXPECT_EQ(c.cpu_shared_set->ToString(), "2-3");
  EXPECT_EQ(c.reserved_host_memory_mb, 4096);
  EXPECT_EQ(c.reserved_host_disk_mb, 20480);
  EXPECT_EQ(c.reserved_host_cpus, 2);
  EXPECT_DOUBLE_EQ(c.cpu_allocation_ratio, 2.5);
  EXPECT_DOUBLE_EQ(c.ram_allocation_ratio, 1.5);  // from initial_*
  EXPECT_EQ(c.instances_path, "/srv/nova/inst");
  EXPECT_EQ(c.snapshots_directory, "/srv/nova/inst/snaps");
  EXPECT_EQ(c.images_type, "lvm");
  EXPECT_EQ(c.images_volume_group, "nova-vg");
  ASSERT_EQ(c.reserved_huge_pages.size(), 2U);
  EXPECT_EQ(c.reserved_huge_pages[0].size_kib, 2048U);
  EXPECT_EQ(c.reserved_huge_pages[0].count, 64U);
  EXPECT_EQ(c.reserved_huge_pages[1].node, 1);
  EXPECT_EQ(c.reserved_huge_pages[1].size_kib, 1024U * 1024U);
}

TEST(NovaConfigTest, RepeatedKeyLastWinsAndNoneRatio) {
  NovaConfig c = MustParse(
      "[DEFAULT]\nreserved_host_memory_mb = 1\nreserved_host_memory_mb = 2048\n"
      "cpu_allocation_ratio = None\ninitial_cpu_allocation_ratio = 8.0\n");
  EXPECT_EQ(c.reserved_host_memory_mb, 2048);
  EXPECT_DOUBLE_EQ(c.cpu_allocation_ratio, 8.0);
}

TEST(NovaConfigTest, LegacyVcpuPinSet) {
  NovaConfig c = MustParse("[DEFAULT]\nvcpu_pin_set = 2-7\n");
  EXPECT_EQ(c.vcpu_pin_set->ToString(), "2-7");
}

TEST(NovaConfigTest, StatePathDefaultInterpolation) {
  NovaConfig c = MustParse("[DEFAULT]\ninstances_path = $state_path/x\n");
  EXPECT_EQ(c.instances_path, "/var/lib/nova/x");
  NovaConfig d = MustParse("[DEFAULT]\ninstances_path = /cost$$/x\n");
  EXPECT_EQ(d.instances_path, "/cost$/x");
}

struct BadCase {
  const char* text;
  const char* expected_substring;
};

TEST(NovaConfigTest, MalformedValuesAreErrorsWithLine) {
  const BadCase cases[] = {
      {"[DEFAULT]\nreserved_host_memory_mb = lots\n",
       "nova.conf:2: expected a non-negative integer for "
       "reserved_host_memory_mb, got 'lots'"},
      {"[DEFAULT]\nreserved_host_disk_mb = -5\n",
       "nova.conf:2: expected a non-negative integer"},
      {"[DEFAULT]\ncpu_allocation_ratio = fast\n",
       "nova.conf:2: expected a positive number for cpu_allocation_ratio"},
      {"[DEFAULT]\nram_allocation_ratio = 0\n", "expected a positive number"},
      {"[compute]\ncpu_dedicated_set = 7-3\n",
       "nova.conf:2: [compute] cpu_dedicated_set: invalid CPU list '7-3'"},
      {"[compute]\ncpu_dedicated_set = 0-3\ncpu_shared_set = 3-5\n",
       "overlap on CPUs 3"},
      {"[DEFAULT]\nvcpu_pin_set = 1-2\n[compute]\ncpu_dedicated_set = 3\n",
       "vcpu_pin_set and [compute] cpu_dedicated_set are both set"},
      {"[DEFAULT]\ninstances_path = $nope/x\n",
       "nova.conf:2: [DEFAULT] instances_path: unknown option '$nope' in "
       "interpolation"},
      {"[DEFAULT]\ninstances_path = ${state_path\n",
       "nova.conf:2: [DEFAULT] instances_path: expected '}' after '${' in "
       "'${state_path'"},
      {"[DEFAULT]\na = $b\nb = $a\ninstances_path = $a\n",
       "interpolation nested deeper than 10 levels (a reference loop?)"},
      {"[DEFAULT]\nreserved_huge_pages = node:0,size:2048\n",
       "needs node, size and count"},
      {"[DEFAULT]\nreserved_huge_pages = node:0,size:big,count:1\n",
       "expected reserved_huge_pages like"},
      {"garbage\n", "nova.conf:1:"},
  };
  for (const BadCase& c : cases) {
    auto r = ParseNovaConfig(c.text, "nova.conf");
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_NE(r.error().find(c.expected_substring), std::string::npos)
        << "error was: " << r.error();
  }
}

// "a = $b$b..., b = $c$c..., ...": each level multiplies the output. Before
// the bounds, an 864-byte file of such lines never finished and a 412-byte one
// used ~1 GB (issue 11).
std::string Bomb(int levels, int refs_per_level, bool braces) {
  std::string text = "[DEFAULT]\ninstances_path = $k0\n";
  for (int i = 0; i < levels; ++i) {
    text += "k" + std::to_string(i) + " = ";
    for (int r = 0; r < refs_per_level; ++r) {
      text += braces ? "${k" + std::to_string(i + 1) + "}"
                     : "$k" + std::to_string(i + 1) + "/";
    }
    text += "\n";
  }
  text += "k" + std::to_string(levels) + " = xxxxxxxxxxxxxxxx\n";
  return text;
}

TEST(NovaConfigTest, InterpolationBombsStopWithAnErrorNamingTheKey) {
  // Wide and shallow: many references, few levels.
  std::string wide = Bomb(9, 12, true);
  EXPECT_LT(wide.size(), 900U);
  auto r = ParseNovaConfig(wide, "nova.conf");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("interpolation expands more than 1000 references"),
            std::string::npos)
      << r.error();
  EXPECT_NE(r.error().find("nova.conf:"), std::string::npos);
  EXPECT_NE(r.error().find("[DEFAULT] k"), std::string::npos) << r.error();

  // Few references but long values: the output size bound.
  std::string big = "[DEFAULT]\ninstances_path = $a$a$a$a\n";
  big += "a = $b$b$b$b$b$b$b$b\nb = $c$c$c$c$c$c$c$c\nc = $d$d$d$d$d$d$d$d\n";
  big += "d = " + std::string(400, 'x') + "\n";
  auto b = ParseNovaConfig(big, "nova.conf");
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().find("interpolated value longer than 65536 bytes"),
            std::string::npos)
      << b.error();

  // Deep: a chain of 12 references.
  auto d = ParseNovaConfig(Bomb(12, 1, false), "nova.conf");
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().find("nested deeper than 10 levels"), std::string::npos)
      << d.error();
}

TEST(NovaConfigTest, InterpolationWithinBoundsStillWorks) {
  // 4 levels of 2 references: 30 expansions, well inside every bound.
  NovaConfig c = MustParse(Bomb(4, 2, true));
  EXPECT_EQ(c.instances_path.size(), 16U * 16U);
}

TEST(NovaConfigTest, ErrorsNeverQuoteValuesOfKeysTheExporterDoesNotRead) {
  const char* cases[] = {
      // A reference loop and a bad reference through the database URL.
      "[DEFAULT]\ninstances_path = $connection\n"
      "connection = mysql://nova:S3cr3tPassw0rd@db/$connection\n",
      "[DEFAULT]\ninstances_path = $transport_url\n"
      "transport_url = rabbit://nova:S3cr3tPassw0rd@mq/${vhost\n",
      "[DEFAULT]\ninstances_path = $transport_url\n"
      "transport_url = rabbit://nova:S3cr3tPassw0rd@mq/$nope\n",
      "[DEFAULT]\ninstances_path = $transport_url\n"
      "transport_url = rabbit://nova:S3cr3tPassw0rd@mq/$\n",
      // A malformed line after the password.
      "[database]\nconnection = mysql://nova:S3cr3tPassw0rd@db/nova\n"
      "S3cr3tPassw0rd\n",
  };
  for (const char* text : cases) {
    auto r = ParseNovaConfig(text, "nova.conf");
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error().find("S3cr3t"), std::string::npos) << r.error();
    EXPECT_EQ(r.error().find("nova.conf:"), 0U) << r.error();
  }
  auto r = ParseNovaConfig(cases[2], "nova.conf");
  EXPECT_EQ(r.error(),
            "nova.conf:3: [DEFAULT] transport_url: unknown option in "
            "interpolation");
  // A key the exporter reads is still quoted: the operator needs to see it.
  auto mine = ParseNovaConfig("[DEFAULT]\nreserved_host_memory_mb = lots\n",
                              "nova.conf");
  EXPECT_NE(mine.error().find("got 'lots'"), std::string::npos);
}

TEST(NovaConfigTest, HugePageOverflowsAreErrors) {
  const BadCase cases[] = {
      // 2^54 GiB: size in KiB times 1024*1024 wraps.
      {"[DEFAULT]\nreserved_huge_pages = node:0,size:18014398509481984GB,"
       "count:1\n",
       "nova.conf:2: reserved_huge_pages size out of range"},
      {"[DEFAULT]\nreserved_huge_pages = node:0,size:18446744073709551615,"
       "count:1\n",
       "size out of range"},
      // count * size in bytes beyond 2^64.
      {"[DEFAULT]\nreserved_huge_pages = node:0,size:1GB,count:17179869184\n",
       "nova.conf:2: reserved_huge_pages count * size overflows"},
      // Above ParseUint's range.
      {"[DEFAULT]\nreserved_huge_pages = node:0,size:2048,"
       "count:99999999999999999999\n",
       "expected reserved_huge_pages like"},
      // node 2^32 used to wrap to 0.
      {"[DEFAULT]\nreserved_huge_pages = node:4294967296,size:2048,count:1\n",
       "reserved_huge_pages node out of range"},
  };
  for (const BadCase& c : cases) {
    auto r = ParseNovaConfig(c.text, "nova.conf");
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_NE(r.error().find(c.expected_substring), std::string::npos)
        << "error was: " << r.error();
  }
  // The largest that fits: 16 Ki pages of 1 GiB (16 TiB).
  NovaConfig c = MustParse(
      "[DEFAULT]\nreserved_huge_pages = node:1023,size:1GB,count:16384\n");
  EXPECT_EQ(c.reserved_huge_pages[0].count, 16384U);
}

}  // namespace
}  // namespace hostiso
