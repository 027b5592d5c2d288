#!/usr/bin/env python3
"""The status page at "/" in headless Chromium.

Fixture mode (--exporter): runs the exporter on a copy of tests/fixtures/guest_host
with a CPU layout (thread_siblings_list, two NUMA nodes), a third guest whose name
is HTML, and /proc/stat ticks that move between two scrapes; then loads the page in
headless Chromium, keeps a screenshot and the DOM under --artifacts, and checks the
core map (one cell per CPU, roles, nodes, the vCPUs on their cores, shares), the
violations with their subjects, that ?format=json parses and matches the DOM, and
that with basic auth in --web.config.file "/" is refused without credentials.

Live mode (--url): the same generic checks on a running exporter (the live-libvirt
test calls it with real KVM guests), plus --expect-vcpu DOMAIN:VCPU:CPU and
--expect-subject.

Prints the page size and the time to serve and render it. Exit 77 without chromium.
"""
import argparse
import base64
import os
import shutil
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "web"))
import exporter_harness as h  # noqa: E402
import status_page_lib as sp  # noqa: E402
import web_lib  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURE = os.path.join(REPO, "tests", "fixtures", "guest_host")
HOSTILE = "evil<img src=x onerror=alert(1)>\"&'"
# Fixture truth (tests/fixtures/guest_host/README.md): CPU 0 host, 1-2 shared, 3-4
# dedicated; instance-00000001 pinned vCPU 0 -> CPU 3, vCPU 1 -> CPU 4.
ROLES = {0: "host", 1: "shared", 2: "shared", 3: "dedicated", 4: "dedicated"}
NODES = {0: 0, 1: 0, 2: 0, 3: 1, 4: 1}
HOSTILE_DOMAIN = """  <domain type="test">
    <name>evil&lt;img src=x onerror=alert(1)&gt;&quot;&amp;&apos;</name>
    <uuid>6a1e2b3c-0000-4000-8000-00000000a0ee</uuid>
    <memory unit="MiB">256</memory>
    <vcpu placement="static">1</vcpu>
    <cputune><vcpupin vcpu="0" cpuset="0"/><emulatorpin cpuset="0"/></cputune>
    <os><type arch="x86_64">hvm</type></os>
  </domain>
</node>"""


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def add_layout(tree, nodes):
    """thread_siblings_list from each CPU's core_id/physical_package_id, and
    node/nodeN/cpulist from `nodes` (cpu -> node): what ReadCpuLayout reads."""
    cpu_dir = os.path.join(tree, "sys", "devices", "system", "cpu")
    place = {}
    for cpu in nodes:
        topo = os.path.join(cpu_dir, "cpu%d" % cpu, "topology")
        place[cpu] = (open(os.path.join(topo, "physical_package_id")).read().strip(),
                      open(os.path.join(topo, "core_id")).read().strip())
    for cpu in nodes:
        siblings = [x for x in sorted(nodes) if place[x] == place[cpu]]
        write(os.path.join(cpu_dir, "cpu%d" % cpu, "topology", "thread_siblings_list"),
              ",".join(map(str, siblings)) + "\n")
    node_dir = os.path.join(tree, "sys", "devices", "system", "node")
    for node in sorted(set(nodes.values())):
        cpus = [x for x in sorted(nodes) if nodes[x] == node]
        write(os.path.join(node_dir, "node%d" % node, "cpulist"), ",".join(map(str, cpus)) + "\n")
    write(os.path.join(node_dir, "online"), ",".join(map(str, sorted(set(nodes.values())))) + "\n")


def bump_proc_stat(tree, host, guest, steal, idle):
    """Adds ticks to every cpuN line: guest time is also counted inside user."""
    path = os.path.join(tree, "proc", "stat")
    out = []
    for line in open(path):
        f = line.split()
        if f and f[0].startswith("cpu") and f[0] != "cpu":
            v = [int(x) for x in f[1:]] + [0] * (10 - len(f[1:]))
            v[0] += host + guest
            v[3] += idle
            v[7] += steal
            v[8] += guest
            line = "%s %s\n" % (f[0], " ".join(map(str, v)))
        out.append(line)
    write(path, "".join(out))


def prepare_tree(artifacts):
    tree = os.path.join(artifacts, "guest_host")
    shutil.rmtree(tree, ignore_errors=True)
    shutil.copytree(FIXTURE, tree, symlinks=True)
    add_layout(tree, NODES)
    xml = os.path.join(tree, "libvirt.xml")
    write(xml, open(xml).read().replace("</node>", HOSTILE_DOMAIN))
    return tree


def ready(samples):
    up = [x[2] for x in h.select(samples, "hostiso_libvirt_up")]
    return up == [1] and h.select(samples, "hostiso_census_age_seconds")


def measure(c, url, what):
    """Serve time (median of 20 GETs) and size of the HTML and the JSON."""
    out = {}
    for name, u in (("html", url), ("json", url + "?format=json")):
        times, body = [], b""
        for _ in range(20):
            body, t = sp.fetch(u)
            times.append(t)
        times.sort()
        out[name] = (len(body), times[len(times) // 2] * 1000)
        print("%s: %s %d bytes, served in %.2f ms (median of 20)"
              % (what, name, out[name][0], out[name][1]))
    return out


def browse(c, url, artifacts, what):
    """Screenshot + DOM through Chromium; returns the parsed DOM."""
    png = os.path.join(artifacts, what + ".png")
    ok, seconds = sp.screenshot(url, png)
    c.check(ok, "%s: screenshot %s" % (what, png))
    print("%s: chromium screenshot in %.2f s (process start included)" % (what, seconds))
    dom, seconds = sp.dump_dom(url)
    with open(os.path.join(artifacts, what + ".dom.html"), "w") as f:
        f.write(dom)
    print("%s: chromium --dump-dom in %.2f s" % (what, seconds))
    return sp.parse_dom(dom)


def fixture_checks(c, dom, data):
    cells = dom.cells
    c.check({k: v["role"] for k, v in cells.items()} == ROLES,
            "fixture: roles host/shared/dedicated")
    c.check({k: v["node"] for k, v in cells.items()} == NODES,
            "fixture: CPUs 0-2 on node 0, 3-4 on node 1")
    c.check(("instance-00000001", 0) in cells.get(3, {}).get("vcpus", []),
            "fixture: instance-00000001 vCPU 0 shown on CPU 3, where it is pinned")
    c.check(all((d, v) in cells[cpu]["vcpus"] for d, v, cpu in sp.pinned_vcpus(data)),
            "fixture: every pinned vCPU on its CPU (%d)" % len(sp.pinned_vcpus(data)))
    c.check("instance-00000002 emulator" in dom.subjects,
            "fixture: violation subject 'instance-00000002 emulator' shown")
    c.check(HOSTILE + " vcpu 0" in dom.subjects,
            "fixture: hostile domain name shown as text in its violation subject")
    c.check((HOSTILE, 0) in cells.get(0, {}).get("vcpus", []),
            "fixture: hostile domain's vCPU shown as text on CPU 0")
    c.check("img" not in dom.tags, "fixture: the hostile name injected no element")
    c.check(cells.get(0, {}).get("violating"), "fixture: CPU 0 outlined as violating")
    c.check(all("h10 g80 s5" in cells[k]["text"] for k in cells),
            "fixture: every CPU shows host 10% guest 80% steal 5% of the last interval")
    c.check(all(x["share"] and abs(x["share"]["guest"] - 0.8) < 1e-6 for x in data["cpus"]),
            "fixture: JSON guest share 0.8 on every CPU")
    c.check({x["name"]: x["state"] for x in data["collectors"]}.get("libvirt") == "ok",
            "fixture: JSON collector health has libvirt ok")


def get_status(port, path, auth=None):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path))
    if auth:
        req.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def check_auth(c, exporter, tree):
    """With basic auth in --web.config.file, "/" and its JSON need it as /metrics does."""
    config = os.path.join(tree, "web-config.yml")
    write(config, "basic_auth_users:\n  alice: %s\n" % web_lib.bcrypt_hash("s3cret"))
    flags = h.fixture_flags(tree, ["--runtime.confine-to-host-cpus=false",
                                   "--web.config.file=" + config])
    with h.Exporter(exporter, flags) as ex:
        for path in ("/", "/?format=json", "/metrics"):
            status, body = get_status(ex.port, path)
            c.check(status == 401 and "instance-" not in body,
                    "auth: %s is 401 without credentials, no data" % path)
            c.check(get_status(ex.port, path, "alice:wrong")[0] == 401,
                    "auth: %s is 401 with a wrong password" % path)
        status, body = get_status(ex.port, "/", "alice:s3cret")
        c.check(status == 200 and 'data-cpu="3"' in body, "auth: / served with credentials")


def run_fixture(c, exporter, artifacts):
    tree = prepare_tree(artifacts)
    flags = h.fixture_flags(tree, ["--census.interval=1", "--libvirt.refresh-interval=3600",
                                   "--runtime.confine-to-host-cpus=false"])
    with h.Exporter(exporter, flags) as ex:
        c.check(ex.wait_for(ready, timeout=20) is not None, "fixture: collectors ready")
        # 100 ticks per CPU between two scrapes: 10 host, 80 guest, 5 steal, 5 idle.
        bump_proc_stat(tree, 10, 80, 5, 5)
        ex.metrics()
        url = "http://127.0.0.1:%d/" % ex.port
        measure(c, url, "fixture")
        dom = browse(c, url, artifacts, "fixture")
        data = sp.fetch_json(url)
        sp.check_page_against_json(c, dom, data, "fixture")
        fixture_checks(c, dom, data)
    check_auth(c, exporter, tree)


def run_live(c, url, artifacts, expect_vcpus, expect_subjects):
    measure(c, url, "live")
    data = sp.fetch_json(url)
    dom = browse(c, url, artifacts, "live")
    sp.check_page_against_json(c, dom, data, "live", sp.fetch_json(url))
    for spec in expect_vcpus:
        domain, vcpu, cpu = spec.rsplit(":", 2)
        c.check((domain, int(vcpu)) in dom.cells.get(int(cpu), {}).get("vcpus", []),
                "live: %s vCPU %s shown on CPU %s" % (domain, vcpu, cpu))
    for subject in expect_subjects:
        c.check(subject in dom.subjects, "live: violation subject %r shown" % subject)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exporter")
    ap.add_argument("--url")
    ap.add_argument("--artifacts", required=True)
    ap.add_argument("--expect-vcpu", action="append", default=[])
    ap.add_argument("--expect-subject", action="append", default=[])
    args = ap.parse_args()
    if not sp.chromium():
        print("SKIP: chromium not installed (scripts/install-deps.sh test)")
        return h.SKIP
    args.artifacts = os.path.abspath(args.artifacts)
    os.makedirs(args.artifacts, exist_ok=True)
    c = h.Checker()
    t0 = time.monotonic()
    if args.url:
        run_live(c, args.url, args.artifacts, args.expect_vcpu, args.expect_subject)
    else:
        run_fixture(c, args.exporter, args.artifacts)
    print("artifacts in %s (%.1f s)" % (args.artifacts, time.monotonic() - t0))
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
