"""The status page seen by a real browser: headless Chromium (Debian's `chromium`)
takes a screenshot and dumps the DOM, which is parsed here into the core map.

Shared by tests/e2e/status_page_test.py (fixture host), the live-libvirt test and
tests/bench/status_page_bench.py."""
import html.parser
import json
import os
import shutil
import subprocess
import time
import urllib.request

# Chromium runs as root in CI: its sandbox needs user namespaces it may not have.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                  "--no-first-run", "--disable-extensions", "--window-size=1366,900"]


def chromium():
    return shutil.which("chromium")


def run_chromium(args, timeout=90):
    """Runs chromium with a throwaway profile; returns (returncode, stdout, seconds)."""
    profile = "/tmp/hostiso-chromium-%d" % os.getpid()
    t0 = time.monotonic()
    p = subprocess.run([chromium()] + CHROMIUM_FLAGS + ["--user-data-dir=" + profile] + args,
                       capture_output=True, text=True, timeout=timeout)
    seconds = time.monotonic() - t0
    shutil.rmtree(profile, ignore_errors=True)
    return p.returncode, p.stdout, seconds


def screenshot(url, path):
    rc, _, seconds = run_chromium(["--screenshot=" + path, url])
    return rc == 0 and os.path.getsize(path) > 0, seconds


def dump_dom(url):
    rc, out, seconds = run_chromium(["--dump-dom", url])
    if rc != 0:
        raise RuntimeError("chromium --dump-dom exited with %d" % rc)
    return out, seconds


def fetch(url, timeout=10):
    """(bytes of the body, seconds to the last byte)."""
    t0 = time.monotonic()
    with urllib.request.urlopen(url, timeout=timeout) as r:
        body = r.read()
    return body, time.monotonic() - t0


def fetch_json(url):
    return json.loads(fetch(url + ("&" if "?" in url else "?") + "format=json")[0])


class CoreMapParser(html.parser.HTMLParser):
    """The DOM as Chromium serialised it -> cells (one per div.c), by node, with the
    vCPUs placed in each, and the subjects of the violations table."""

    def __init__(self):
        super().__init__()
        self.cells = {}  # cpu -> {"role", "node", "violating", "vcpus": [(dom, vcpu)], "text"}
        self.subjects = []
        self.tags = set()
        self._node = None
        self._cell = None
        self._depth = 0
        self._vcpu = None
        self._subject = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.add(tag)
        if tag == "fieldset":
            self._node = int(a.get("data-node", "-1"))
        if self._cell is not None and tag == "div":
            self._depth += 1
        if tag == "div" and "data-cpu" in a:
            cpu = int(a["data-cpu"])
            if cpu in self.cells:
                raise AssertionError("two cells for CPU %d" % cpu)
            self._cell = {"role": a.get("data-role"), "node": self._node, "vcpus": [],
                          "violating": " v" in " " + a.get("class", ""), "text": ""}
            self.cells[cpu] = self._cell
            self._depth = 0
        if tag == "i" and self._cell is not None:
            self._vcpu = ""
        if tag == "td" and a.get("class") == "subject":
            self._subject = ""

    def handle_endtag(self, tag):
        if tag == "i" and self._vcpu is not None:
            # "domain/vcpu" (libvirt refuses '/' in names); a floating vCPU's "~" is CSS.
            domain, _, vcpu = self._vcpu.rpartition("/")
            self._cell["vcpus"].append((domain, int(vcpu)))
            self._vcpu = None
        if tag == "div" and self._cell is not None:
            if self._depth == 0:
                self._cell = None
            else:
                self._depth -= 1
        if tag == "td" and self._subject is not None:
            self.subjects.append(self._subject)
            self._subject = None

    def handle_data(self, data):
        if self._vcpu is not None:
            self._vcpu += data
        if self._cell is not None:
            self._cell["text"] += data
        if self._subject is not None:
            self._subject += data


def parse_dom(dom):
    p = CoreMapParser()
    p.feed(dom)
    p.close()
    return p


def check_page_against_json(c, dom, data, what, data_after=None):
    """Checks that hold on any host: one cell per CPU of the JSON, same roles and
    nodes, every pinned vCPU of the JSON in the cell of its CPU, the violation
    subjects in the violations table, no script. On a live host the census may change
    the subjects between the fetches: with `data_after` (JSON fetched after the DOM),
    the subjects of both fetches must be shown and only those of either."""
    cells = dom.cells
    want = {x["cpu"]: x for x in data["cpus"]}
    c.check(sorted(cells) == sorted(want),
            "%s: one cell per online CPU (%d cells, %d CPUs)" % (what, len(cells), len(want)))
    c.check(all(cells[k]["role"] == want[k]["role"] for k in want if k in cells),
            "%s: every cell has its CPU's role" % what)
    c.check(all(cells[k]["node"] == want[k]["node"] for k in want if k in cells),
            "%s: every cell sits in its NUMA node's box" % what)
    # Pinned vCPUs only: a floating one may have moved between the two fetches.
    placed = all((v["domain"], v["vcpu"]) in cells[k]["vcpus"]
                 for k in want if k in cells for v in want[k]["vcpus"] if v["pinned"])
    c.check(placed, "%s: every pinned vCPU is shown on its CPU" % what)
    before = set(v["subject"] for v in data["violations"])
    after = set(v["subject"] for v in (data_after or data)["violations"])
    shown = set(dom.subjects)
    c.check(len(shown) == len(dom.subjects), "%s: each subject shown once" % what)
    c.check(before & after <= shown <= before | after,
            "%s: the violation subjects are shown (%d)" % (what, len(shown)))
    c.check("script" not in dom.tags, "%s: no script element" % what)


def pinned_vcpus(data):
    """(domain, vcpu, cpu) of every vCPU pinned to one CPU, from the guests table."""
    out = []
    for g in data["guests"]:
        for v in g["vcpus"]:
            if v["affinity"].isdigit():
                out.append((g["name"], v["vcpu"], int(v["affinity"])))
    return out
