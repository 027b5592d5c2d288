#!/usr/bin/env python3
"""The Host detail panels on metrics of the topology/cgroup readers and of the
optional `sched` collector, evaluated on synthetic series with promtool.

    test_optional_panels.py [--dashboards DIR] [--keep]

These metrics (contract v2: "Topology, NUMA and cgroups", "Scheduler
attribution") come from collectors that may be absent on a host: the eBPF
collector `sched` needs CAP_BPF/CAP_PERFMON and BTF, and an exporter built
before the topology and cgroup readers does not have them at all. The live
dashboard tests (test_dashboards_live_exporter.py) require data only from
queries whose every input metric the exporter exposes, so on such a host these
panels are listed as "inputs absent" and never checked there. This test checks
them anyway: it takes each panel's queries from the rendered dashboard
(variables substituted: $job = hostiso, $instance = cn-01:9933, $cluster =
.*, $__rate_interval = 5m), evaluates them with `promtool test rules` over
synthetic series of a 6-CPU SMT host (and a second host that the $instance
filter must drop), and compares every sample, labels and value.

Exit 0 pass, 1 fail, 77 promtool missing (SKIP). python3-yaml writes the test.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import check_dashboards  # noqa: E402

SKIP = 77
HOST = 'job="hostiso",instance="cn-01:9933"'
OTHER = 'job="hostiso",instance="cn-02:9933"'
# cpu -> (package, core, numa_node, role): CPUs 0 and 2 are one core shared by
# the host and a dedicated CPU; 1 and 3 a dedicated core; 4 and 5 a shared core.
TOPOLOGY = {0: (0, 0, 0, "host"), 1: (0, 1, 0, "dedicated"), 2: (0, 0, 0, "dedicated"),
            3: (0, 1, 0, "dedicated"), 4: (1, 0, 1, "shared"), 5: (1, 0, 1, "shared")}
# (metric labels, per-minute increase): counters, rates are increase / 60;
# promtool compares values exactly, so the sums are exact in binary
COUNTERS = [
    ('hostiso_cgroup_cpu_seconds_total{%s,slice="machine.slice"}', 30),
    ('hostiso_cgroup_cpu_seconds_total{%s,slice="system.slice"}', 6),
    ('hostiso_domain_wait_attributed_seconds_total{%s,domain="instance-1",holder="host"}', 6),
    ('hostiso_domain_wait_attributed_seconds_total{%s,domain="instance-1",holder="other_guest"}',
     3),
    ('hostiso_cpu_held_seconds_total{%s,cpu="0",holder="host"}', 30),
    ('hostiso_cpu_held_seconds_total{%s,cpu="0",holder="idle"}', 30),
    ('hostiso_cpu_held_seconds_total{%s,cpu="2",holder="host"}', 6),
    ('hostiso_cpu_held_seconds_total{%s,cpu="2",holder="vcpu"}', 45),
    ('hostiso_cpu_held_seconds_total{%s,cpu="1",holder="vcpu"}', 45),
    ('hostiso_sched_intrusion_seconds_total{%s,cpu="2",comm="cron"}', 3),
    ('hostiso_sched_intrusion_seconds_total{%s,cpu="3",comm="cron"}', 3),
    ('hostiso_sched_intrusion_seconds_total{%s,cpu="2",comm="kernel"}', 7.5),
]
# waits of instance-1's vCPUs per minute, cumulative by bucket: half within
# 100 us, all within 1 ms -> p50 = 100 us, p99 = 982 us (linear in the bucket)
BUCKETS = [("1e-05", 0), ("0.0001", 30), ("0.001", 60), ("+Inf", 60)]


def input_series():
    out = []
    for labels in (HOST, OTHER):
        for cpu, (package, core, node, role) in TOPOLOGY.items():
            out.append(('hostiso_cpu_topology_info{%s,cpu="%d",package="%d",core="%d",'
                        'numa_node="%d"}' % (labels, cpu, package, core, node), "1x10"))
            out.append(('hostiso_cpu_role{%s,cpu="%d",role="%s"}' % (labels, cpu, role),
                        "1x10"))
        for series, per_minute in COUNTERS:
            out.append((series % labels, "0+%gx10" % per_minute))
        for le, per_minute in BUCKETS:
            out.append(('hostiso_domain_runqueue_latency_seconds_bucket{%s,domain="instance-1",'
                        'le="%s"}' % (labels, le), "0+%gx10" % per_minute))
    out.append(('hostiso_cpu_accounting_source{%s,cpu="0",source="proc_stat"}' % HOST, "1x10"))
    out.append(('hostiso_cpu_accounting_source{%s,cpu="1",source="vcpu_threads"}' % HOST,
                "1x10"))
    return [{"series": s, "values": v} for s, v in out]


def cpu_rows(value_of):
    """Samples {labels: value} of a per-CPU table target."""
    return {'job="hostiso",instance="cn-01:9933",numa_node="%d",package="%d",core="%d",'
            'cpu="%d"' % (node, package, core, cpu): value_of(cpu, role)
            for cpu, (package, core, node, role) in TOPOLOGY.items()}


def expected():
    """(panel title, refId) -> {labels without braces: value}."""
    h = 'job="hostiso",instance="cn-01:9933"'
    roles_on_core = {0: 2, 2: 2}
    return {
        ("Cores by NUMA node", "A"): {
            'job="hostiso",instance="cn-01:9933",numa_node="%d",package="%d",core="%d",'
            'cpu="%d",role="%s"' % (node, package, core, cpu, role): 1
            for cpu, (package, core, node, role) in TOPOLOGY.items()},
        ("Cores by NUMA node", "B"): cpu_rows(lambda cpu, role: 2),
        ("Cores by NUMA node", "C"): cpu_rows(lambda cpu, role: roles_on_core.get(cpu, 1)),
        ("Accounting source per CPU", "A"): {
            h + ',cpu="0",source="proc_stat"': 1, h + ',cpu="1",source="vcpu_threads"': 1},
        ("CPU time by cgroup slice", "A"): {
            'slice="machine.slice"': 0.5, 'slice="system.slice"': 0.1},
        ("Who held my vCPU's core, per guest", "A"): {
            'domain="instance-1",holder="host"': 0.1,
            'domain="instance-1",holder="other_guest"': 0.05},
        ("Who held each core, by role and holder", "A"): {
            'role="host",holder="host"': 0.5, 'role="dedicated",holder="host"': 0.1,
            'role="dedicated",holder="vcpu"': 1.5},
        ("vCPU run-queue latency per guest (p50, p99)", "A"): {'domain="instance-1"': 0.0001},
        ("vCPU run-queue latency per guest (p50, p99)", "B"): {'domain="instance-1"': 0.000982},
        ("Host time on guest CPUs by process (exact)", "A"): {
            'comm="cron"': 0.1, 'comm="kernel"': 0.125},
    }


def panel_queries(dash_dir):
    """(title, refId) -> expr of the Host detail dashboard, variables substituted."""
    with open(os.path.join(dash_dir, "hostiso-host-detail.json"), encoding="utf-8") as f:
        data = json.load(f)
    out = {}
    for p, _ in check_dashboards.iter_panels(data["panels"]):
        for t in p.get("targets") or []:
            out[(p.get("title"), t.get("refId"))] = check_dashboards.substitute_variables(
                t["expr"], rate_interval="5m", job="hostiso", instance="cn-01:9933")
    return out


def build_test(queries, rule_file):
    tests = []
    missing = [k for k in expected() if k not in queries]
    for (title, ref), samples in expected().items():
        if (title, ref) in missing:
            continue
        tests.append({"expr": queries[(title, ref)], "eval_time": "10m",
                      "exp_samples": [{"labels": "{%s}" % labels, "value": value}
                                      for labels, value in sorted(samples.items())]})
    doc = {"rule_files": [rule_file], "evaluation_interval": "1m",
           "tests": [{"name": "optional-collector panels of Host detail", "interval": "1m",
                      "input_series": input_series(), "promql_expr_test": tests}]}
    return doc, missing


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dashboards", default=os.path.join(check_dashboards.REPO, "dashboards"))
    ap.add_argument("--keep", action="store_true", help="keep the generated promtool test")
    args = ap.parse_args(argv)
    promtool = shutil.which("promtool")
    if not promtool:
        print("SKIP: promtool not installed (Debian package prometheus)")
        return SKIP
    doc, missing = build_test(panel_queries(args.dashboards), "empty.rules.yml")
    for title, ref in missing:
        print("FAIL: no panel %r with target %s on Host detail" % (title, ref),
              file=sys.stderr)
    tmp = tempfile.mkdtemp(prefix="hostiso-optional-panels-")
    try:
        with open(os.path.join(tmp, "empty.rules.yml"), "w") as f:
            f.write("groups: []\n")
        test_path = os.path.join(tmp, "panels_test.yml")
        with open(test_path, "w") as f:
            yaml.safe_dump(doc, f, sort_keys=False, width=1000)
        r = subprocess.run([promtool, "test", "rules", test_path], capture_output=True,
                           text=True)
        print(r.stdout + r.stderr)
        n = len(doc["tests"][0]["promql_expr_test"])
        if r.returncode != 0 or missing:
            print("FAIL: %d panel queries checked, promtool exit %d, %d missing"
                  % (n, r.returncode, len(missing)), file=sys.stderr)
            return 1
        print("test_optional_panels: OK, %d panel queries give the expected samples" % n)
        return 0
    finally:
        if args.keep:
            print("kept", tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
