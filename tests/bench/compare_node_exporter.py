#!/usr/bin/env python3
"""Side-by-side scrape cost: hostiso_exporter vs Debian's prometheus-node-exporter
(cpu collector only) on the same generated N-CPU fixture tree.

Both run on 127.0.0.1 with --path.procfs/--path.sysfs on the tree. For each,
the script makes --scrapes sequential HTTP scrapes and reports the median and
p90 of (a) wall time per HTTP scrape and (b) the exporter's own collector
time (hostiso_collector_duration_seconds{collector="cpu"} +
{collector="isolation"}; node_scrape_collector_duration_seconds{collector="cpu"}).
A benchmark, not a test: it prints figures and asserts nothing.

With --host, both run on this host's real /proc and /sys with their default
flags instead (hostiso_exporter: every default collector; node_exporter: its
default collectors), and the collector time is the sum over all collectors.

  compare_node_exporter.py --exporter build/exporter/hostiso_exporter [--cpus 256]
  compare_node_exporter.py --exporter build/exporter/hostiso_exporter --host
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import exporter_harness as h  # noqa: E402


def summarize(values):
    values = sorted(values)
    return statistics.median(values), values[int(0.9 * (len(values) - 1))]


def collector_seconds(body, metric, collectors):
    """Sum of `metric` over the samples whose collector label is one of `collectors`
    (every collector when `collectors` is None)."""
    return sum(v for name, labels, v in h.parse(body)
               if name == metric
               and (collectors is None or labels.get("collector") in collectors))


def cpu_seconds(pid):
    """utime + stime of `pid` (/proc/PID/stat fields 14 and 15)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def scrape_series(port, scrapes, metric, collectors):
    import urllib.request
    wall, inner, size = [], [], 0
    url = "http://127.0.0.1:%d/metrics" % port
    for _ in range(3):  # warm-up
        urllib.request.urlopen(url, timeout=10).read()
    for _ in range(scrapes):
        t0 = time.perf_counter()
        body = urllib.request.urlopen(url, timeout=10).read().decode()
        wall.append(time.perf_counter() - t0)
        size = len(body)
        inner.append(collector_seconds(body, metric, collectors))
    return wall, inner, size


def wait_port(port, proc):
    import urllib.request
    deadline = time.time() + 15
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("process exited: %s" % proc.returncode)
        try:
            urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=2).read()
            return
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.1)
    raise RuntimeError("no answer on port %d" % port)


def fixture_runs(exporter, node, tree):
    return {
        "hostiso_exporter": ([exporter, "--path.procfs=%s/proc" % tree,
                              "--path.sysfs=%s/sys" % tree,
                              "--nova.config=%s/nova.conf" % tree,
                              "--collector.disable-defaults", "--collector.cpu",
                              "--collector.isolation", "--runtime.confine-to-host-cpus=false"],
                             "hostiso_collector_duration_seconds", ("cpu", "isolation")),
        "node_exporter": ([node, "--path.procfs=%s/proc" % tree, "--path.sysfs=%s/sys" % tree,
                           "--collector.disable-defaults", "--collector.cpu"],
                          "node_scrape_collector_duration_seconds", ("cpu",)),
    }


def host_runs(exporter, node):
    """Both exporters as installed: default flags on this host's /proc and /sys."""
    return {
        "hostiso_exporter": ([exporter], "hostiso_collector_duration_seconds", None),
        "node_exporter": ([node], "node_scrape_collector_duration_seconds", None),
    }


def run_all(runs, scrapes):
    results = {}
    for name, (cmd, metric, collectors) in runs.items():
        port = h.free_port()
        proc = subprocess.Popen(cmd + ["--web.listen-address=127.0.0.1:%d" % port],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_port(port, proc)
            cpu0 = cpu_seconds(proc.pid)
            wall, inner, size = scrape_series(port, scrapes, metric, collectors)
            # Exporter CPU per scrape: steadier than wall time on a loaded host
            # (includes warm-up scrapes and any background worker).
            cpu = (cpu_seconds(proc.pid) - cpu0) / (scrapes + 3)
            results[name] = (wall, inner, size, cpu)
        finally:
            proc.terminate()
            proc.wait(10)
    return results


def report(results, title):
    print(title)
    print("load average at the end of the run: %s" % " ".join(
        "%.2f" % x for x in os.getloadavg()))
    print("%-18s %14s %14s %18s %18s %14s %10s"
          % ("exporter", "http median ms", "http p90 ms", "collector med ms",
             "collector p90 ms", "cpu/scrape ms", "bytes"))
    for name, (wall, inner, size, cpu) in results.items():
        wm, wp = summarize(wall)
        im, ip = summarize(inner)
        print("%-18s %14.3f %14.3f %18.3f %18.3f %14.3f %10d"
              % (name, wm * 1e3, wp * 1e3, im * 1e3, ip * 1e3, cpu * 1e3, size))
    hw = summarize(results["hostiso_exporter"][0])[0]
    nw = summarize(results["node_exporter"][0])[0]
    hi = summarize(results["hostiso_exporter"][1])[0]
    ni = summarize(results["node_exporter"][1])[0]
    print("ratio node/hostiso: http %.1fx, collector %.1fx" % (nw / hw, ni / hi))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exporter", required=True)
    ap.add_argument("--cpus", type=int, default=256)
    ap.add_argument("--scrapes", type=int, default=200)
    ap.add_argument("--host", action="store_true",
                    help="this host, default collectors of both, instead of a fixture tree")
    args = ap.parse_args()
    node = shutil.which("prometheus-node-exporter")
    if not node:
        print("SKIP: prometheus-node-exporter is not installed")
        return h.SKIP
    if args.host:
        results = run_all(host_runs(args.exporter, node), args.scrapes)
        report(results, "this host, default collectors, %d sequential scrapes each, on 127.0.0.1"
               % args.scrapes)
        return 0
    with tempfile.TemporaryDirectory() as tree:
        subprocess.run([sys.executable, os.path.join(HERE, "..", "fixtures", "generate.py"),
                        "--cpus", str(args.cpus), "--out", tree], check=True)
        results = run_all(fixture_runs(args.exporter, node, tree), args.scrapes)
    report(results, "%d-CPU fixture, %d sequential scrapes each, on 127.0.0.1"
           % (args.cpus, args.scrapes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
