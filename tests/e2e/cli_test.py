#!/usr/bin/env python3
"""Command-line behaviour: --version/--help, bad flags exit 2 with one line,
a busy port exits 1 with one line, log formats."""
import argparse
import json
import os
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
import exporter_harness as h  # noqa: E402


TWO_CPU_SYSFS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures",
                             "two_cpu", "sys")


def run(binary, args, timeout=20):
    return subprocess.run([binary] + args, capture_output=True, text=True, timeout=timeout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exporter", required=True)
    args = ap.parse_args()
    c = h.Checker()
    b = args.exporter

    v = run(b, ["--version"])
    c.check(v.returncode == 0 and v.stdout.startswith("hostiso_exporter version "), "--version")
    hl = run(b, ["--help"])
    c.check(hl.returncode == 0 and "--web.listen-address" in hl.stdout, "--help")

    for bad in (["--no-such-flag"], ["--web.listen-address=:70000"], ["--isolation.guest-cpus=3-1"],
                ["--log.level=chatty"], ["--collector.nosuch"], ["--path.procfs"], ["stray"],
                ["--cgroup.host-slice=../escape.slice"], ["--cgroup.host-slice=/abs.slice"],
                # CPUs the host does not have (the two_cpu fixture has CPUs 0-1).
                ["--isolation.guest-cpus=100", "--path.sysfs=%s" % TWO_CPU_SYSFS]):
        r = run(b, bad)
        lines = [line for line in r.stderr.splitlines() if line.strip()]
        c.check(r.returncode == 2 and len(lines) == 1 and lines[0].startswith("hostiso_exporter: "),
                "%s: exit 2 with one line (got %d, %r)" % (bad, r.returncode, r.stderr))

    # A busy port: one clear line, exit 1, no uncaught exception.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = run(b, ["--web.listen-address=127.0.0.1:%d" % port, "--collector.disable-defaults"])
    errors = [line for line in r.stderr.splitlines() if "level=error" in line]
    c.check(r.returncode == 1, "busy port: exit 1 (got %d)" % r.returncode)
    c.check(len(errors) == 1 and "127.0.0.1:%d" % port in errors[0],
            "busy port: one error line naming it: %r" % r.stderr)
    c.check("terminate called" not in r.stderr and "Aborted" not in r.stderr,
            "busy port: no uncaught exception")

    # JSON logs: every line is a JSON object with ts, level and msg.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = run(b, ["--web.listen-address=127.0.0.1:%d" % port, "--log.format=json",
                    "--collector.disable-defaults"])
    objs = []
    for line in r.stderr.splitlines():
        try:
            objs.append(json.loads(line))
        except ValueError:
            objs.append(None)
    c.check(objs and all(o and {"ts", "level", "msg"} <= o.keys() for o in objs),
            "--log.format=json: every line is JSON: %r" % r.stderr)
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
