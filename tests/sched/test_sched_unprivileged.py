#!/usr/bin/env python3
"""The sched collector without privileges (issue 14).

Root runs the exporter through setpriv twice, as user nobody:
- with no capabilities: hostiso_collector_success{collector="sched"} is 0, exactly one
  log line names the reason (no privilege, CAP_BPF and CAP_PERFMON), no sched series is
  served, and every other collector (libvirt off: no daemon here) still succeeds;
- with only CAP_BPF and CAP_PERFMON (ambient): the collector loads (success 1), its vCPU
  counter task iterator attaches, and the per-CPU held time is served, so those two
  capabilities are enough.

Usage: test_sched_unprivileged.py --exporter BIN. Exit 0 pass, 1 fail, 77 skip.
"""
import argparse
import os
import re
import shutil
import stat
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from exporter_harness import SKIP, Checker, Exporter, parse, select, value  # noqa: E402
from sched_preflight import why_sched_cannot_load  # noqa: E402

NOBODY = 65534
# The word "sched" alone (not SCHED_IDLE or sched_getaffinity of the census's line).
SCHED_WORD = re.compile(r"(?<![\w])sched(?![\w])")


def wrapper(work, exporter, caps):
    """A script that runs the exporter as nobody with `caps` (setpriv syntax)."""
    path = os.path.join(work, "as-nobody-%s.sh" % (caps.replace(",", "_") or "none"))
    opts = "--inh-caps=-all"
    if caps:
        opts = "--inh-caps=%s --ambient-caps=%s" % (caps, caps)
    with open(path, "w") as f:
        f.write("#!/bin/sh\nexec setpriv --reuid=%d --regid=%d --clear-groups %s %s \"$@\"\n"
                % (NOBODY, NOBODY, opts, exporter))
    os.chmod(path, stat.S_IRWXU)
    return path


def scrape_twice(binary):
    flags = ["--no-collector.libvirt", "--nova.config=/nonexistent/nova.conf"]
    with Exporter(binary, flags) as e:
        first = parse(e.metrics())
        time.sleep(0.5)
        second = parse(e.metrics())
    return first, second, e.stderr


def check_without_caps(c, work, exporter):
    _, s, log = scrape_twice(wrapper(work, exporter, ""))
    c.check(value(s, "hostiso_collector_success", collector="sched") == 0,
            "no capabilities: sched success 0")
    others = {lb["collector"]: v for _, lb, v in select(s, "hostiso_collector_success")
              if lb["collector"] != "sched"}
    c.check(others and all(v == 1 for v in others.values()),
            "no capabilities: every other collector succeeds (%s)" % others)
    c.check(not select(s, "hostiso_cpu_held_seconds_total"), "no capabilities: no sched series")
    lines = [ln for ln in log.splitlines() if SCHED_WORD.search(ln)]
    print("log lines about sched:\n  " + "\n  ".join(lines))
    c.check(len(lines) == 1 and "no privilege" in lines[0] and "CAP_BPF" in lines[0],
            "no capabilities: one log line naming the reason")


def check_with_bpf_caps(c, work, exporter):
    _, s, log = scrape_twice(wrapper(work, exporter, "+bpf,+perfmon"))
    c.check(value(s, "hostiso_collector_success", collector="sched") == 1,
            "CAP_BPF+CAP_PERFMON as nobody: sched loads (log: %s)"
            % [ln for ln in log.splitlines() if SCHED_WORD.search(ln)])
    c.check(bool(select(s, "hostiso_cpu_held_seconds_total")),
            "CAP_BPF+CAP_PERFMON: per-CPU held time served")
    c.check(any("task iterator" in ln for ln in log.splitlines()),
            "CAP_BPF+CAP_PERFMON: the vCPU counter task iterator attached")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--exporter", required=True)
    args = p.parse_args()
    if os.geteuid() != 0:
        print("SKIP: needs root (to drop to nobody with chosen capabilities)")
        return SKIP
    if shutil.which("setpriv") is None:
        print("SKIP: setpriv missing (util-linux)")
        return SKIP
    exporter = os.path.abspath(args.exporter)
    why = why_sched_cannot_load(exporter)
    if why:
        # Without BPF the unprivileged reason would be the same "cannot load".
        print("SKIP: " + why)
        return SKIP
    c = Checker()
    with tempfile.TemporaryDirectory(prefix="hostiso-sched-priv-") as work:
        check_without_caps(c, work, exporter)
        check_with_bpf_caps(c, work, exporter)
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
