#!/usr/bin/env python3
"""Hostile clients cannot starve scrapes.

While a real Prometheus scrapes the exporter every second for a minute, this
test holds 500 idle TCP connections open (some with half a request line)
plus 50 "slowloris" connections that send one header byte every half
second, and reopens every connection the exporter drops. Checks: no failed
scrape (up == 1 for every scrape, and the expected number of scrapes), and
reports the p99 and max of scrape_duration_seconds as Prometheus measured
them (figures, not assertions beyond "no failed scrape").

127.0.0.1 only. Bounded: about 80 s.
Usage: test_hostile_clients.py --exporter PATH [--seconds 60] [--idle 500] [--slow 50]
"""
import argparse
import os
import resource
import socket
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import web_lib  # noqa: E402
from web_lib import Exporter, Prometheus, free_port  # noqa: E402
from exporter_harness import Checker  # noqa: E402


class Attackers:
    """Idle and trickling connections, reopened when the exporter closes them."""

    def __init__(self, port, idle, slow):
        self.port = port
        self.idle = [None] * idle
        self.slow = [None] * slow
        self.stop = threading.Event()
        self.reopened = 0

    def _open(self, i, partial):
        try:
            s = socket.create_connection(("127.0.0.1", self.port), timeout=2)
            s.setblocking(False)
            if partial:
                s.send(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            return s
        except OSError:
            return None

    def _alive(self, s):
        if s is None:
            return False
        try:
            return s.recv(1, socket.MSG_PEEK) != b""  # b"": closed by the exporter
        except BlockingIOError:
            return True
        except OSError:
            return False

    def _tend(self, conns, partial_every):
        for i, s in enumerate(conns):
            if not self._alive(s):
                if s is not None:
                    s.close()
                    self.reopened += 1
                conns[i] = self._open(i, partial_every and i % partial_every == 0)

    def run(self):
        self._tend(self.idle, 3)
        self._tend(self.slow, 1)
        while not self.stop.is_set():
            for s in self.slow:
                try:
                    if s is not None:
                        s.send(b"X")  # one byte of a never-ending header
                except OSError:
                    pass
            self._tend(self.idle, 3)
            self._tend(self.slow, 1)
            self.stop.wait(0.5)
        for s in self.idle + self.slow:
            if s is not None:
                s.close()

    def open_count(self):
        return sum(1 for s in self.idle + self.slow if s is not None)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exporter", required=True)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--idle", type=int, default=500)
    ap.add_argument("--slow", type=int, default=50)
    ap.add_argument("--exporter-arg", action="append", default=[],
                    help="extra exporter flag (e.g. --web.max-connections=4 to see it fail)")
    args = ap.parse_args()
    web_lib.require("prometheus")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = args.idle + args.slow + 100
    if soft < need:
        if hard < need:
            web_lib.skip("RLIMIT_NOFILE hard limit %d < %d" % (hard, need))
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
    c = Checker()
    with tempfile.TemporaryDirectory(prefix="hostiso-web-hostile-") as d:
        port = free_port()
        listen = ["--web.listen-address=127.0.0.1:%d" % port]
        ex = Exporter(args.exporter, listen + args.exporter_arg, os.path.join(d, "exporter.log"))
        job = {"job_name": "hostiso", "static_configs": [{"targets": ["127.0.0.1:%d" % port]}]}
        prom = Prometheus(d, [job], interval="1s")
        attackers = Attackers(port, args.idle, args.slow)
        thread = threading.Thread(target=attackers.run, daemon=True)
        try:
            ex.start(port=port)
            thread.start()
            time.sleep(2)
            print("hostile connections open: %d" % attackers.open_count(), flush=True)
            prom.start()
            start = time.time()
            time.sleep(args.seconds)
            window = "%ds" % int(time.time() - start - 1)
            print("hostile connections open at the end: %d (reopened %d)"
                  % (attackers.open_count(), attackers.reopened), flush=True)
            count = prom.query('count_over_time(up{job="hostiso"}[%s])' % window)
            failed = prom.query('count_over_time((up{job="hostiso"} == 0)[%s:1s])' % window)
            p99 = prom.query('quantile_over_time(0.99, scrape_duration_seconds{job="hostiso"}[%s])'
                             % window)
            worst = prom.query('max_over_time(scrape_duration_seconds{job="hostiso"}[%s])'
                               % window)
        finally:
            attackers.stop.set()
            thread.join(timeout=10)
            prom.stop()
            ex.stop()
        n = count[0][1] if count else 0
        c.check(n >= args.seconds * 0.8, "Prometheus scraped every second (%d scrapes in %s)"
                % (n, window))
        c.check(not failed, "no failed scrape (%s)" % failed)
        c.check(attackers.open_count() >= args.idle, "the hostile connections stayed open")
        if p99 and worst:
            print("scrape_duration_seconds under attack: p99 %.3f s, max %.3f s over %d scrapes"
                  % (p99[0][1], worst[0][1], n), flush=True)
        c.check(bool(p99), "Prometheus recorded scrape durations")
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
