#include "metrics/libvirt/domain_xml.h"

#include <gtest/gtest.h>

namespace hostiso {
namespace {

constexpr const char* kNovaDomain = R"(<domain type='kvm' id='7'>
  <name>instance-0000abcd</name>
  <uuid>2f3a4b5c-6d7e-4f80-9a1b-2c3d4e5f6a7b</uuid>
  <metadata>
    <nova:instance xmlns:nova="http://openstack.org/xmlns/libvirt/nova/1.1">
      <nova:package version="27.1.0"/>
      <nova:name>db &amp; cache</nova:name>
      <nova:flavor name="c4.pinned"><nova:memory>4096</nova:memory><nova:vcpus>4</nova:vcpus></nova:flavor>
      <nova:owner>
        <nova:user uuid="u-1">alice</nova:user>
        <nova:project uuid="9f8e7d6c5b4a">databases</nova:project>
      </nova:owner>
    </nova:instance>
  </metadata>
  <memory unit='KiB'>4194304</memory>
  <currentMemory unit='KiB'>4194304</currentMemory>
  <memoryBacking><hugepages><page size='2048' unit='KiB'/></hugepages></memoryBacking>
  <vcpu placement='static'>4</vcpu>
  <iothreads>1</iothreads>
  <cputune>
    <vcpupin vcpu='0' cpuset='10'/>
    <vcpupin vcpu='1' cpuset='11'/>
    <vcpupin vcpu='2' cpuset='12'/>
    <vcpupin vcpu='3' cpuset='13'/>
    <emulatorpin cpuset='2-3'/>
    <iothreadpin iothread='1' cpuset='2-3'/>
  </cputune>
</domain>)";

TEST(DomainXml, ParsesNovaDomain) {
  auto d = ParseDomainXml(kNovaDomain);
  ASSERT_TRUE(d) << d.error();
  EXPECT_EQ(d->name, "instance-0000abcd");
  EXPECT_EQ(d->uuid, "2f3a4b5c-6d7e-4f80-9a1b-2c3d4e5f6a7b");
  EXPECT_EQ(d->memory_bytes, 4ULL << 30);
  EXPECT_EQ(d->vcpus, 4);
  EXPECT_TRUE(d->hugepages_backed);
  EXPECT_EQ(d->iothreads, 1);
  EXPECT_TRUE(d->nova.present);
  EXPECT_EQ(d->nova.instance_name, "db & cache");
  EXPECT_EQ(d->nova.flavor, "c4.pinned");
  EXPECT_EQ(d->nova.project_id, "9f8e7d6c5b4a");
  EXPECT_EQ(d->nova.project_name, "databases");
  ASSERT_EQ(d->vcpupin.size(), 4u);
  EXPECT_EQ(d->vcpupin.at(3).ToString(), "13");
  ASSERT_TRUE(d->emulatorpin);
  EXPECT_EQ(d->emulatorpin->ToString(), "2-3");
  EXPECT_EQ(d->iothreadpin.at(1).ToString(), "2-3");
  EXPECT_EQ(DeriveCpuPolicy(*d), "dedicated");
}

TEST(DomainXml, NoMetadataNoPinning) {
  auto d = ParseDomainXml(
      "<domain type='kvm'><name>plain</name><memory>1048576</memory>"
      "<vcpu current='2'>4</vcpu></domain>");
  ASSERT_TRUE(d) << d.error();
  EXPECT_FALSE(d->nova.present);
  EXPECT_EQ(d->nova.instance_name, "");
  EXPECT_EQ(d->nova.flavor, "");
  EXPECT_EQ(d->memory_bytes, 1ULL << 30);  // KiB by default
  EXPECT_EQ(d->vcpus, 2);                  // current= wins
  EXPECT_FALSE(d->hugepages_backed);
  EXPECT_FALSE(d->emulatorpin);
  EXPECT_EQ(DeriveCpuPolicy(*d), "shared");
}

TEST(DomainXml, OtherNamespaceIsNotNova) {
  // Same local names, different namespace: not Nova's metadata.
  auto d = ParseDomainXml(
      "<domain><name>x</name><metadata><n:instance "
      "xmlns:n='http://example.com/other'>"
      "<n:name>impostor</n:name></n:instance></metadata><vcpu>1</vcpu></"
      "domain>");
  ASSERT_TRUE(d) << d.error();
  EXPECT_FALSE(d->nova.present);
  EXPECT_EQ(d->nova.instance_name, "");
}

TEST(DomainXml, AnyPrefixForNovaNamespace) {
  auto d = ParseDomainXml(
      "<domain><name>x</name><metadata><os:instance "
      "xmlns:os='http://openstack.org/xmlns/libvirt/nova/1.1'><os:name>n</"
      "os:name>"
      "<os:flavor name='f'/></os:instance></metadata><vcpu>1</vcpu></domain>");
  ASSERT_TRUE(d) << d.error();
  EXPECT_TRUE(d->nova.present);
  EXPECT_EQ(d->nova.instance_name, "n");
  EXPECT_EQ(d->nova.flavor, "f");
  EXPECT_EQ(d->nova.project_id, "");
}

TEST(DomainXml, PolicySharedWhenOneVcpuFloatsOrIsUnpinned) {
  auto d = ParseDomainXml(
      "<domain><name>x</name><vcpu>3</vcpu><cputune><vcpupin vcpu='0' "
      "cpuset='4'/>"
      "<vcpupin vcpu='1' cpuset='5-6'/><vcpupin vcpu='2' "
      "cpuset='7'/></cputune></domain>");
  ASSERT_TRUE(d);
  EXPECT_EQ(DeriveCpuPolicy(*d), "shared");
  auto e = ParseDomainXml(
      "<domain><name>x</name><vcpu>2</vcpu><cputune><vcpupin vcpu='0' "
      "cpuset='4'/>"
      "</cputune></domain>");
  ASSERT_TRUE(e);
  EXPECT_EQ(DeriveCpuPolicy(*e), "shared");
  auto f = ParseDomainXml("<domain><name>x</name></domain>");
  ASSERT_TRUE(f);
  EXPECT_EQ(DeriveCpuPolicy(*f), "");
}

TEST(DomainXml, RejectsMalformedAndWrongRoot) {
  EXPECT_FALSE(ParseDomainXml("<domain><name>x</domain>"));
  EXPECT_FALSE(ParseDomainXml(""));
  auto wrong = ParseDomainXml("<network><name>x</name></network>");
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.error().find("<domain>"), std::string::npos);
}

TEST(DomainXml, BadPinIsIgnoredNotFatal) {
  auto d = ParseDomainXml(
      "<domain><name>x</name><vcpu>1</vcpu><cputune><vcpupin vcpu='0' "
      "cpuset='7-3'/>"
      "</cputune></domain>");
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->vcpupin.empty());
}

TEST(DomainXml, Units) {
  EXPECT_EQ(*detail::ScaledToBytes("2", "MiB"), 2ULL << 20);
  EXPECT_EQ(*detail::ScaledToBytes("2", "MB"), 2000000ULL);
  EXPECT_EQ(*detail::ScaledToBytes("3", "G"), 3ULL << 30);
  EXPECT_EQ(*detail::ScaledToBytes("5", "bytes"), 5ULL);
  EXPECT_FALSE(detail::ScaledToBytes("5", "furlongs"));
  EXPECT_FALSE(detail::ScaledToBytes("x", "KiB"));
  EXPECT_FALSE(detail::ScaledToBytes("18446744073709551615", "KiB"));
}

TEST(DomainXml, NumatuneNodesetAndNumaCells) {
  auto d = ParseDomainXml(
      "<domain><name>g</name><vcpu>4</vcpu>"
      "<numatune><memory mode='strict' nodeset='0-2,^1'/></numatune>"
      "<cpu><numa><cell id='0' cpus='0-1' memory='1024'/>"
      "<cell id='1' cpus='2-3' memory='1024'/></numa></cpu></domain>");
  ASSERT_TRUE(d) << d.error();
  ASSERT_TRUE(d->numatune_nodes.has_value());
  EXPECT_EQ(*d->numatune_nodes, CpuSet::FromList({0, 2}));
  EXPECT_EQ(d->numa_cells, 2);

  // placement='auto' (numad) names no nodes; a malformed nodeset is left out.
  auto automatic = ParseDomainXml(
      "<domain><numatune><memory mode='strict' placement='auto'/>"
      "</numatune></domain>");
  ASSERT_TRUE(automatic);
  EXPECT_FALSE(automatic->numatune_nodes.has_value());
  EXPECT_EQ(automatic->numa_cells, 0);
  auto bad = ParseDomainXml(
      "<domain><numatune><memory nodeset='1-0'/></numatune></domain>");
  ASSERT_TRUE(bad);
  EXPECT_FALSE(bad->numatune_nodes.has_value());
}

TEST(NovaMetadata, ElementAlone) {
  auto m = ParseNovaMetadata(
      "<instance "
      "xmlns='http://openstack.org/xmlns/libvirt/nova/1.1'><name>vm</name>"
      "<flavor name='m1.small'/><owner><project "
      "uuid='p1'>proj</project></owner></instance>");
  ASSERT_TRUE(m) << m.error();
  EXPECT_EQ(m->instance_name, "vm");
  EXPECT_EQ(m->flavor, "m1.small");
  EXPECT_EQ(m->project_id, "p1");
  EXPECT_EQ(m->project_name, "proj");
  EXPECT_FALSE(ParseNovaMetadata("<instance><name>vm</name></instance>"));
}

TEST(DomStatus, PidAndVcpuThreads) {
  auto st = ParseDomStatus(
      "<domstatus state='running' reason='booted' pid='4242'>\n"
      "  <monitor path='/var/lib/libvirt/qemu/domain-1-x/monitor.sock' "
      "type='unix'/>\n"
      "  <vcpus>\n    <vcpu id='0' pid='4250'/>\n    <vcpu id='1' "
      "pid='4251'/>\n  </vcpus>\n"
      "  <domain type='kvm'><name>x</name></domain>\n</domstatus>");
  ASSERT_TRUE(st) << st.error();
  EXPECT_EQ(st->pid, 4242);
  ASSERT_EQ(st->vcpu_tids.size(), 2u);
  EXPECT_EQ(st->vcpu_tids.at(1), 4251);
  EXPECT_FALSE(ParseDomStatus("<domstatus/>"));
  EXPECT_FALSE(ParseDomStatus("<domain pid='1'/>"));
}

}  // namespace
}  // namespace hostiso
