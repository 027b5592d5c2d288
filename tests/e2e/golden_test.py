#!/usr/bin/env python3
"""Golden-exposition test: the exporter on fixture host trees.

Runs the binary on each tests/fixtures tree, normalises what legitimately
varies between runs (collector durations, build revision), compares /metrics
with tests/golden/<case>.prom and runs `promtool check metrics` on the raw
exposition. `--update` rewrites the golden files after a deliberate change:
review the diff before committing it.
"""
import argparse
import difflib
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import exporter_harness as h  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIX = os.path.join(REPO, "tests", "fixtures")

# Each case: fixture tree, collectors, extra flags. The fixture-only cases list
# their collectors so that a collector reading the real host (libvirt, census)
# cannot leak host state into the golden file; guest_host gives every
# collector a fixture to read (libvirt through its test driver).
FIXTURE_ONLY = ["--collector.disable-defaults", "--collector.cpu", "--collector.isolation",
                "--collector.memory"]
CASES = {
    "two_cpu": ("two_cpu", FIXTURE_ONLY + ["--isolation.guest-cpus=1",
                                           "--nova.config=%(root)s/missing-nova.conf"]),
    "smt_large": ("smt_large", FIXTURE_ONLY + ["--nova.config=%(root)s/nova.conf"]),
    "cgroup_v2": ("cgroup_v2", FIXTURE_ONLY + [
        "--collector.cgroup", "--nova.config=%(root)s/nova.conf",
        "--cgroup.host-slice=system.slice/ovs-vswitchd.service"]),
    "guest_host": ("guest_host", ["--nova.config=%(root)s/nova.conf",
                                  "--libvirt.uri=test://%(root)s/libvirt.xml",
                                  "--path.rootfs=%(root)s/root", "--census.interval=1",
                                  "--libvirt.refresh-interval=3600",
                                  # reads the running kernel, not the tree
                                  "--no-collector.sched"]),
    # The topology checks: collectors listed so that no disk or interrupt
    # series of the real host leaks in.
    "numa_smt": ("numa_smt", ["--collector.disable-defaults", "--collector.cpu",
                              "--collector.isolation", "--collector.memory",
                              "--collector.libvirt", "--collector.census",
                              "--collector.topology", "--nova.config=%(root)s/nova.conf",
                              "--libvirt.uri=test://%(root)s/libvirt.xml",
                              "--census.interval=1", "--libvirt.refresh-interval=3600"]),
}
# Gauges whose values depend on when or where the test runs.
VARYING = [
    r"hostiso_collector_duration_seconds\{[^}]*\}",
    r"hostiso_(?:libvirt_snapshot|census)_age_seconds",
    r"hostiso_census_duration_seconds",
    r"hostiso_disk_(?:size|free)_bytes\{[^}]*\}",
    r"hostiso_disk_reserve_headroom_bytes",
    r"process_[a-z_]+",
]


def ready(samples):
    """Every slow source has been read once, the census after libvirt's inventory
    (which classifies QEMU threads without reading them)."""
    up = [x[2] for x in h.select(samples, "hostiso_libvirt_up")]
    if not up:
        return True
    census_age = [x[2] for x in h.select(samples, "hostiso_census_age_seconds")]
    libvirt_age = [x[2] for x in h.select(samples, "hostiso_libvirt_snapshot_age_seconds")]
    disk_ready = (h.select(samples, "hostiso_disk_size_bytes")
                  or not h.select(samples, "hostiso_collector_success", collector="disk"))
    return (up == [1] and census_age and libvirt_age and census_age[0] < libvirt_age[0]
            and disk_ready)


def normalise(text):
    text = re.sub(r'^(hostiso_collector_duration_seconds\{[^}]*\}) \S+$', r'\1 <duration>', text,
                  flags=re.M)
    for pattern in VARYING[1:]:
        text = re.sub(r'^(%s) \S+$' % pattern, r'\1 <value>', text, flags=re.M)
    text = re.sub(r'^(hostiso_(?:exporter_)?build_info)\{[^}]*\} 1$',
                  r'\1{version="<version>",revision="<revision>"} 1', text, flags=re.M)
    return text


def census_after(moment):
    """A census taken after `moment` (time.time()) is served: with the census
    interval of 1 s, a census that follows an earlier census after libvirt's
    inventory, so its counts are the steady state (the first census after
    start reads every thread; later ones skip idle processes)."""
    def check(samples):
        age = [x[2] for x in h.select(samples, "hostiso_census_age_seconds")]
        return not age or time.time() - age[0] > moment
    return check


def scrape_case(exporter, root, extra):
    """Two scrapes of the exporter on one fixture tree, once every collector is ready."""
    flags = ["--path.procfs=%s/proc" % root, "--path.sysfs=%s/sys" % root,
             "--runtime.confine-to-host-cpus=false"]
    flags += [e % {"root": root} for e in extra]
    with h.Exporter(exporter, flags) as ex:
        ex.wait_for(ready, timeout=20)
        ex.wait_for(census_after(time.time()), timeout=20)
        return ex.metrics(), ex.metrics()


def compare(c, case, got, update):
    golden = os.path.join(REPO, "tests", "golden", case + ".prom")
    if update:
        os.makedirs(os.path.dirname(golden), exist_ok=True)
        with open(golden, "w") as f:
            f.write(got)
        print("updated", golden)
    want = open(golden).read() if os.path.exists(golden) else ""
    diff = list(difflib.unified_diff(want.splitlines(), got.splitlines(), "golden/" + case,
                                     "got", lineterm=""))
    if diff:
        print("\n".join(diff[:80]))
    c.check(not diff, "%s: exposition matches tests/golden/%s.prom" % (case, case))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exporter", required=True)
    ap.add_argument("--update", action="store_true")
    args = ap.parse_args()
    c = h.Checker()
    skipped = []
    for case, (tree, extra) in sorted(CASES.items()):
        root = os.path.join(FIX, tree)
        raw, second = scrape_case(args.exporter, root, extra)
        got = normalise(raw).replace(root, "<fixture>")
        compare(c, case, got, args.update)
        # Fixture files do not change, so a second scrape must equal the first.
        c.check(normalise(second).replace(root, "<fixture>") == got,
                "%s: second scrape identical" % case)
        ran, problems = h.promtool_check(raw)
        if not ran:
            skipped.append("%s: promtool check metrics (%s)" % (case, problems))
        else:
            c.check(problems == "", "%s: promtool check metrics clean: %s" % (case, problems))
    return c.finish(skipped)


if __name__ == "__main__":
    sys.exit(main())
