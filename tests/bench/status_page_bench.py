#!/usr/bin/env python3
"""Size and render time of the status page on a 256-CPU host (figures, no assertion
on time).

Writes the 256-CPU benchmark tree (tests/fixtures/generate.py --cpus 256: 8 host
CPUs, 248 dedicated and isolated, 2 threads per core, 2 packages), adds its CPU
layout (one NUMA node per package) and a libvirt test-driver node with 124 guests of
2 pinned vCPUs each, runs the exporter on it, moves /proc/stat between two scrapes,
then reports the HTML and JSON sizes, the time to serve each (median of 50 GETs) and
Chromium's time to load and screenshot the page (process start included).

  status_page_bench.py --exporter build/exporter/hostiso_exporter --out DIR
"""
import argparse
import gzip
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import exporter_harness as h  # noqa: E402
import status_page_lib as sp  # noqa: E402
import status_page_test as spt  # noqa: E402

CPUS = 256
GUESTS = 124


def libvirt_node(guest_cpus):
    domains = []
    for i in range(GUESTS):
        pins = "".join('<vcpupin vcpu="%d" cpuset="%d"/>' % (v, guest_cpus[2 * i + v])
                       for v in range(2))
        domains.append(
            '<domain type="test"><name>instance-%08x</name>'
            '<uuid>6a1e2b3c-0000-4000-8000-%012x</uuid><memory unit="MiB">2048</memory>'
            '<vcpu placement="static">2</vcpu><cputune>%s<emulatorpin cpuset="0-3"/></cputune>'
            '<os><type arch="x86_64">hvm</type></os></domain>' % (i + 1, i + 1, pins))
    return ('<node><cpu><mhz>2400</mhz><model>x86_64</model><active>%d</active><nodes>2</nodes>'
            '<sockets>2</sockets><cores>64</cores><threads>2</threads></cpu>'
            '<memory>536870912</memory>%s</node>\n' % (CPUS, "".join(domains)))


def prepare(out):
    tree = os.path.join(out, "fixture-256")
    subprocess.run([sys.executable, os.path.join(HERE, "..", "fixtures", "generate.py"),
                    "--cpus", str(CPUS), "--out", tree], check=True)
    spt.add_layout(tree, {cpu: cpu * 2 // CPUS for cpu in range(CPUS)})
    host = set(range(0, 4)) | set(range(CPUS // 2, CPUS // 2 + 4))
    guest_cpus = [c for c in range(CPUS) if c not in host]
    spt.write(os.path.join(tree, "libvirt.xml"), libvirt_node(guest_cpus))
    return tree


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exporter", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    if not sp.chromium():
        print("SKIP: chromium not installed (scripts/install-deps.sh test)")
        return h.SKIP
    out = os.path.abspath(args.out)
    tree = prepare(out)
    flags = ["--path.procfs=%s/proc" % tree, "--path.sysfs=%s/sys" % tree,
             "--nova.config=%s/nova.conf" % tree, "--libvirt.uri=test://%s/libvirt.xml" % tree,
             "--collector.disable-defaults", "--collector.cpu", "--collector.isolation",
             "--collector.libvirt", "--runtime.confine-to-host-cpus=false"]
    with h.Exporter(args.exporter, flags) as ex:
        ex.wait_for(lambda s: [x[2] for x in h.select(s, "hostiso_libvirt_up")] == [1], 20)
        spt.bump_proc_stat(tree, 10, 80, 5, 5)
        ex.metrics()
        url = "http://127.0.0.1:%d/" % ex.port
        data = sp.fetch_json(url)
        placed = sum(len(c["vcpus"]) for c in data["cpus"])
        print("%d CPUs, %d guests, %d vCPUs placed on the core map"
              % (len(data["cpus"]), len(data["guests"]), placed))
        for name, u in (("html", url), ("json", url + "?format=json")):
            times = []
            for _ in range(50):
                body, t = sp.fetch(u)
                times.append(t * 1000)
            times.sort()
            print("%s: %d bytes (%d gzip), served in %.2f ms median, %.2f ms p90 (50 GETs)"
                  % (name, len(body), len(gzip.compress(body)), times[25], times[45]))
        png = os.path.join(out, "status-256.png")
        t0 = time.monotonic()
        ok, seconds = sp.screenshot(url, png)
        print("chromium: screenshot %s in %.2f s (process start included)%s"
              % (png, seconds, "" if ok else " FAILED"))
        dom, seconds = sp.dump_dom(url)
        cells = len(sp.parse_dom(dom).cells)
        print("chromium: --dump-dom in %.2f s, %d cells" % (seconds, cells))
        print("total %.1f s" % (time.monotonic() - t0))
    return 0 if ok and cells == CPUS else 1


if __name__ == "__main__":
    sys.exit(main())
