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

sys.path.insert(0, os.path.dirname(__file__))
import exporter_harness as h  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIX = os.path.join(REPO, "tests", "fixtures")

# Each case: fixture tree, extra flags. Collectors are listed explicitly so
# a collector that reads the real host (libvirt, census) cannot leak host
# state into the golden file.
CASES = {
    "two_cpu": ("two_cpu", ["--isolation.guest-cpus=1",
                            "--nova.config=%(root)s/missing-nova.conf"]),
    "smt_large": ("smt_large", ["--nova.config=%(root)s/nova.conf"]),
}
COLLECTORS = ["--collector.disable-defaults", "--collector.cpu", "--collector.isolation",
              "--collector.memory"]


def normalise(text):
    text = re.sub(r'^(hostiso_collector_duration_seconds\{[^}]*\}) \S+$', r'\1 <duration>', text,
                  flags=re.M)
    text = re.sub(r'^hostiso_build_info\{[^}]*\} 1$',
                  'hostiso_build_info{version="<version>",revision="<revision>"} 1', text,
                  flags=re.M)
    return text


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exporter", required=True)
    ap.add_argument("--update", action="store_true")
    args = ap.parse_args()
    c = h.Checker()
    skipped = []
    for case, (tree, extra) in sorted(CASES.items()):
        root = os.path.join(FIX, tree)
        flags = ["--path.procfs=%s/proc" % root, "--path.sysfs=%s/sys" % root,
                 "--runtime.confine-to-host-cpus=false"] + COLLECTORS
        flags += [e % {"root": root} for e in extra]
        with h.Exporter(args.exporter, flags) as ex:
            raw = ex.metrics()
            second = ex.metrics()
        got = normalise(raw)
        got = got.replace(root, "<fixture>")
        golden = os.path.join(REPO, "tests", "golden", case + ".prom")
        if args.update:
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
