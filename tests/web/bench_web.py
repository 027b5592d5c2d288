#!/usr/bin/env python3
"""Benchmark (label bench; figures, no assertions): what the web layer adds
to a scrape. The 256-CPU fixture (tests/fixtures/generate.py) scraped plain,
gzip, TLS and TLS+gzip, beside Debian's node_exporter (cpu collector only)
with the same --web.config.file (TLS, server certificate from openssl).

For each case: --scrapes sequential scrapes over one keep-alive connection
(as Prometheus scrapes), after a warm-up; reported: median and p90 wall time
per scrape seen by the client, the exporter's CPU time per scrape
(utime+stime from /proc/PID/stat over the run), and the bytes on the wire.

  bench_web.py --exporter build/exporter/hostiso_exporter [--cpus 256] [--scrapes 200]
"""
import argparse
import http.client
import os
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import web_lib  # noqa: E402
from web_lib import free_port, stop_process, wait_port  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def series(port, tls_ctx, gzip, scrapes):
    if tls_ctx is not None:
        conn = http.client.HTTPSConnection("127.0.0.1", port, context=tls_ctx, timeout=30)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Accept-Encoding": "gzip"} if gzip else {"Accept-Encoding": "identity"}
    walls, size = [], 0
    for i in range(scrapes + 5):
        t0 = time.perf_counter()
        conn.request("GET", "/metrics", headers=headers)
        r = conn.getresponse()
        body = r.read()
        if r.status != 200:
            raise RuntimeError("scrape answered %d" % r.status)
        if i >= 5:  # warm-up first
            walls.append(time.perf_counter() - t0)
        size = len(body)
    conn.close()
    return walls, size


def run_case(cmd, port, tls_ctx, gzip, scrapes):
    proc = subprocess.Popen(cmd + ["--web.listen-address=127.0.0.1:%d" % port],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port("127.0.0.1", port, proc)
        series(port, tls_ctx, gzip, 5)
        c0 = cpu_seconds(proc.pid)
        walls, size = series(port, tls_ctx, gzip, scrapes)
        cpu = (cpu_seconds(proc.pid) - c0) / (scrapes + 5)
    finally:
        stop_process(proc)
    walls.sort()
    return statistics.median(walls), walls[int(0.9 * (len(walls) - 1))], cpu, size


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exporter", required=True)
    ap.add_argument("--cpus", type=int, default=256)
    ap.add_argument("--scrapes", type=int, default=200)
    args = ap.parse_args()
    web_lib.require("openssl")
    node = shutil.which("prometheus-node-exporter")
    with tempfile.TemporaryDirectory(prefix="hostiso-web-bench-") as d:
        tree = os.path.join(d, "tree")
        subprocess.run([sys.executable, os.path.join(HERE, "..", "fixtures", "generate.py"),
                        "--cpus", str(args.cpus), "--out", tree], check=True,
                       stdout=subprocess.DEVNULL)
        ca = web_lib.make_ca(d)
        web_lib.make_cert(d, "server")
        web = os.path.join(d, "web.yml")
        with open(web, "w") as f:
            f.write("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n")
        tls_ctx = ssl.create_default_context(cafile=ca)
        exporters = {
            "hostiso_exporter": [args.exporter, "--path.procfs=%s/proc" % tree,
                                 "--path.sysfs=%s/sys" % tree, "--nova.config=%s/nova.conf" % tree,
                                 "--collector.disable-defaults", "--collector.cpu",
                                 "--collector.isolation", "--runtime.confine-to-host-cpus=false"],
        }
        if node:
            exporters["node_exporter"] = [node, "--path.procfs=%s/proc" % tree,
                                          "--path.sysfs=%s/sys" % tree,
                                          "--collector.disable-defaults", "--collector.cpu"]
        print("%d-CPU fixture, %d sequential scrapes per case over one keep-alive connection"
              % (args.cpus, args.scrapes))
        print("%-17s %-9s %10s %10s %12s %9s" % ("exporter", "case", "median ms", "p90 ms",
                                                 "cpu ms/scr", "bytes"))
        for name, cmd in exporters.items():
            for case, tls, gzip in (("plain", False, False), ("gzip", False, True),
                                    ("tls", True, False), ("tls+gzip", True, True)):
                full = cmd + (["--web.config.file=" + web] if tls else [])
                med, p90, cpu, size = run_case(full, free_port(), tls_ctx if tls else None,
                                               gzip, args.scrapes)
                print("%-17s %-9s %10.3f %10.3f %12.3f %9d" % (name, case, med * 1e3, p90 * 1e3,
                                                               cpu * 1e3, size), flush=True)
        if not node:
            print("node_exporter: not installed (prometheus-node-exporter), not compared")
    return 0


if __name__ == "__main__":
    sys.exit(main())
