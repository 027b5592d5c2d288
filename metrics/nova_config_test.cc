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
      {"[DEFAULT]\ninstances_path = $nope/x\n", "unknown option '$nope'"},
      {"[DEFAULT]\ninstances_path = ${state_path\n", "expected '}'"},
      {"[DEFAULT]\na = $b\nb = $a\ninstances_path = $a\n",
       "interpolation loop"},
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

}  // namespace
}  // namespace hostiso
