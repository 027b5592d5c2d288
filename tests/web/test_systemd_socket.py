#!/usr/bin/env python3
"""--web.systemd-socket: the exporter serves sockets it inherits through the
sd_listen_fds protocol (LISTEN_PID/LISTEN_FDS), as from
packaging/hostiso-exporter.socket. systemd-socket-activate (from the systemd
package) plays systemd: it binds 127.0.0.1:P (and [::1]:P when there is
IPv6) and execs the exporter on the first connection. Checks: both answer
/metrics; without inherited sockets the exporter exits 1 with one error line.

Usage: test_systemd_socket.py --exporter PATH
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import web_lib  # noqa: E402
from web_lib import free_port, stop_process, wait_port  # noqa: E402
from exporter_harness import Checker  # noqa: E402
from test_web_tls_live import has_ipv6  # noqa: E402


def fetch(url):
    deadline = time.time() + 15
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                return r.status, r.read().decode()
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exporter", required=True)
    args = ap.parse_args()
    web_lib.require("systemd-socket-activate")
    c = Checker()
    port = free_port()
    v6 = has_ipv6()
    listen = ["-l", "127.0.0.1:%d" % port] + (["-l", "[::1]:%d" % port] if v6 else [])
    with tempfile.TemporaryDirectory(prefix="hostiso-web-sd-") as d:
        log = open(os.path.join(d, "activate.log"), "w")
        proc = subprocess.Popen(["systemd-socket-activate"] + listen + [
            args.exporter] + web_lib.FIXTURE_ARGS + ["--web.systemd-socket"],
            stdout=subprocess.DEVNULL, stderr=log)
        try:
            wait_port("127.0.0.1", port, proc)
            status, body = fetch("http://127.0.0.1:%d/metrics" % port)
            c.check(status == 200 and "hostiso_build_info" in body,
                    "the inherited IPv4 socket serves /metrics")
            if v6:
                status, body = fetch("http://[::1]:%d/metrics" % port)
                c.check(status == 200 and "hostiso_build_info" in body,
                        "the inherited IPv6 socket serves /metrics")
        finally:
            stop_process(proc)
            log.close()
        if c.failures:
            print(open(os.path.join(d, "activate.log")).read())
    env = {k: v for k, v in os.environ.items() if not k.startswith("LISTEN_")}
    p = subprocess.run([args.exporter] + web_lib.FIXTURE_ARGS + ["--web.systemd-socket"],
                       capture_output=True, text=True, timeout=30, env=env)
    errors = [ln for ln in p.stderr.splitlines() if "level=error" in ln]
    c.check(p.returncode == 1 and len(errors) == 1 and "LISTEN_FDS" in errors[0],
            "without inherited sockets: exit 1, one line (%d, %s)" % (p.returncode, errors))
    return c.finish([] if v6 else ["[::1]: no IPv6 loopback here"])


if __name__ == "__main__":
    sys.exit(main())
