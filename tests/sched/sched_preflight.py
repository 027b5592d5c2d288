"""Whether the sched collector can load here at all (shared by tests/sched/)."""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from exporter_harness import Exporter, parse, value  # noqa: E402

# What this machine or build lacks (a skip), as the collector words it.
MISSING = re.compile(r"built without BPF support|has no BTF")


def why_sched_cannot_load(exporter):
    """None when the collector loads as root; else the reason a test should skip
    (built without BPF, no kernel BTF). Any other failure is returned as None too, so
    the test itself runs and reports it as a failure."""
    flags = ["--collector.disable-defaults", "--collector.sched",
             "--runtime.confine-to-host-cpus=false"]
    with Exporter(exporter, flags) as e:
        ok = value(parse(e.metrics()), "hostiso_collector_success", collector="sched")
    if ok == 1:
        return None
    found = MISSING.search(e.stderr)
    if found:
        return "the sched collector cannot load here: " + [
            ln for ln in e.stderr.splitlines() if found.group(0) in ln][0]
    return None
