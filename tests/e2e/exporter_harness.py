"""Starts hostiso_exporter on 127.0.0.1 and scrapes it (shared by the e2e tests)."""
import collections
import contextlib
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request

SKIP = 77


def stop_process(proc, timeout=10):
    """SIGTERM, then SIGKILL if it has not exited within `timeout` seconds."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def free_port():
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_concurrently(target, count, timeout=60):
    """Runs target() on `count` threads at once and waits for them (at most
    `timeout` seconds each): concurrent scrapes and clients."""
    threads = [threading.Thread(target=target) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)


def fixture_flags(tree, extra=()):
    """Flags that point every collector at a fixture host tree laid out as
    tests/fixtures/guest_host (proc/, sys/, root/, nova.conf, libvirt.xml). The sched
    collector is off: it reads the running kernel, never a tree (on one it reports
    that, success 0)."""
    return ["--path.procfs=%s/proc" % tree, "--path.sysfs=%s/sys" % tree,
            "--path.rootfs=%s/root" % tree, "--nova.config=%s/nova.conf" % tree,
            "--libvirt.uri=test://%s/libvirt.xml" % tree, "--no-collector.sched"] + list(extra)


class Exporter:
    """Context manager: the exporter running with `args` on a free loopback port."""

    def __init__(self, binary, args, port=None):
        self.binary = binary
        self.port = port or free_port()
        self.args = ["--web.listen-address=127.0.0.1:%d" % self.port] + list(args)
        self.proc = None
        self.stderr = ""

    def __enter__(self):
        self.proc = subprocess.Popen([self.binary] + self.args, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 15
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("exporter exited with %s: %s"
                                   % (self.proc.returncode, self.proc.stderr.read()))
            try:
                self.get("/")
                return self
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.05)
        raise RuntimeError("exporter did not answer on port %d within 15 s" % self.port)

    def __exit__(self, *exc):
        self.proc.terminate()
        try:
            self.stderr = self.proc.communicate(timeout=10)[1]
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.stderr = self.proc.communicate()[1]
        return False

    def get(self, path, timeout=10):
        """Returns (status, body)."""
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d%s" % (self.port, path),
                                        timeout=timeout) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def wait_for(self, predicate, timeout=10.0):
        """Scrapes until predicate(samples) holds; returns the samples, or None on timeout."""
        deadline = time.time() + timeout
        while True:
            samples = parse(self.metrics())
            if predicate(samples):
                return samples
            if time.time() >= deadline:
                return None
            time.sleep(0.2)

    def metrics(self):
        status, body = self.get("/metrics")
        if status != 200:
            raise RuntimeError("/metrics answered %d" % status)
        return body


# ---------------------------------------------------------------- exposition parser
# The Prometheus text format 0.0.4, as Prometheus' own parser reads it: `# HELP name text`
# (escapes \\ and \n), `# TYPE name type` (once per family, before its samples), other
# `#` lines are comments; a sample is `name{label="value",...} value [timestamp]` with
# the label value escapes \\, \" and \n, a Go float value (NaN, +Inf, -Inf included) and
# an optional integer timestamp in milliseconds. Anything else is an ExpositionError.
Sample = collections.namedtuple("Sample", "name labels value timestamp")
Family = collections.namedtuple("Family", "type help")

METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
BLANKS = re.compile(r"[ \t]*")
FLOAT = re.compile(r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|(?i:inf|infinity|nan))")
TIMESTAMP = re.compile(r"-?\d+")
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")
# Suffixes under which a histogram's or summary's samples follow its TYPE line.
FAMILY_SUFFIXES = {"histogram": ("_bucket", "_sum", "_count"), "summary": ("_sum", "_count")}
LABEL_VALUE_ESCAPES = {"\\": "\\", '"': '"', "n": "\n"}
HELP_ESCAPES = {"\\": "\\", "n": "\n"}


class ExpositionError(ValueError):
    pass


def _unescape(text, escapes, lineno):
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\":
            if text[i + 1:i + 2] not in escapes:
                raise ExpositionError("line %d: invalid escape %r" % (lineno, text[i:i + 2]))
            out.append(escapes[text[i + 1]])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _label_value(line, pos, lineno):
    """(unescaped value, position after the closing quote) of the value at line[pos]."""
    if line[pos:pos + 1] != '"':
        raise ExpositionError("line %d: label value must start with '\"': %r" % (lineno, line))
    i = pos + 1
    while i < len(line) and line[i] != '"':
        i += 2 if line[i] == "\\" else 1
    if i >= len(line):
        raise ExpositionError("line %d: unterminated label value: %r" % (lineno, line))
    return _unescape(line[pos + 1:i], LABEL_VALUE_ESCAPES, lineno), i + 1


def _skip_blanks(line, pos):
    return BLANKS.match(line, pos).end()


def _labels(line, pos, lineno):
    """({name: value}, position after '}') of the label set starting at line[pos] == '{'."""
    labels = {}
    pos = _skip_blanks(line, pos + 1)
    while line[pos:pos + 1] != "}":
        m = LABEL_NAME.match(line, pos)
        if not m:
            raise ExpositionError("line %d: bad label name at column %d: %r"
                                  % (lineno, pos + 1, line))
        pos = _skip_blanks(line, m.end())
        if line[pos:pos + 1] != "=":
            raise ExpositionError("line %d: '=' expected after label %s" % (lineno, m.group()))
        value, pos = _label_value(line, _skip_blanks(line, pos + 1), lineno)
        if m.group() in labels:
            raise ExpositionError("line %d: label %s repeated" % (lineno, m.group()))
        labels[m.group()] = value
        pos = _skip_blanks(line, pos)
        if line[pos:pos + 1] == ",":
            pos = _skip_blanks(line, pos + 1)
        elif line[pos:pos + 1] != "}":
            raise ExpositionError("line %d: ',' or '}' expected: %r" % (lineno, line))
    return labels, pos + 1


def _sample(line, lineno):
    m = METRIC_NAME.match(line)
    if not m:
        raise ExpositionError("line %d: bad metric name: %r" % (lineno, line))
    labels, pos = {}, _skip_blanks(line, m.end())
    if line[pos:pos + 1] == "{":
        labels, pos = _labels(line, pos, lineno)
    elif pos == m.end():
        raise ExpositionError("line %d: blank or '{' expected after the name: %r"
                              % (lineno, line))
    fields = line[pos:].split()
    if len(fields) not in (1, 2) or not FLOAT.fullmatch(fields[0]) or (
            len(fields) == 2 and not TIMESTAMP.fullmatch(fields[1])):
        raise ExpositionError("line %d: expected 'value [timestamp]': %r" % (lineno, line))
    timestamp = int(fields[1]) if len(fields) == 2 else None
    return Sample(m.group(), labels, float(fields[0]), timestamp)


def _family_of(name, families):
    """The family a sample name belongs to: its own, or a histogram/summary's."""
    for suffix in ("_bucket", "_sum", "_count"):
        base = name[:-len(suffix)]
        if name.endswith(suffix) and base in families and \
                suffix in FAMILY_SUFFIXES.get(families[base].type, ()):
            return base
    return name


def _metadata(line, lineno, families, sampled):
    """Records a HELP or TYPE line in `families`; other comments are ignored."""
    m = re.match(r"#[ \t]*(HELP|TYPE)[ \t]+([^ \t]*)(?:[ \t]+(.*))?$", line)
    if not m:
        return
    keyword, name, rest = m.group(1), m.group(2), m.group(3) or ""
    if not METRIC_NAME.fullmatch(name):
        raise ExpositionError("line %d: bad metric name in %s: %r" % (lineno, keyword, line))
    fam = families.get(name, Family(None, None))
    if keyword == "HELP":
        if fam.help is not None:
            raise ExpositionError("line %d: second HELP for %s" % (lineno, name))
        families[name] = fam._replace(help=_unescape(rest, HELP_ESCAPES, lineno))
        return
    if rest.strip() not in TYPES:
        raise ExpositionError("line %d: unknown type %r for %s" % (lineno, rest, name))
    if fam.type is not None or name in sampled:
        raise ExpositionError("line %d: TYPE for %s repeated or after its samples"
                              % (lineno, name))
    families[name] = fam._replace(type=rest.strip())


def parse_exposition(text):
    """Exposition text -> ([Sample], {family name: Family(type, help)}).

    Raises ExpositionError for any line the text format does not allow, a repeated
    series, or a HELP/TYPE line repeated or after the family's samples."""
    samples, families, sampled, series = [], {}, set(), set()
    for lineno, raw in enumerate(text.split("\n"), 1):
        line = raw.strip(" \t")
        if not line:
            continue
        if line.startswith("#"):
            _metadata(line, lineno, families, sampled)
            continue
        sample = _sample(line, lineno)
        key = (sample.name, tuple(sorted(sample.labels.items())))
        if key in series:
            raise ExpositionError("line %d: repeated series %r" % (lineno, line))
        series.add(key)
        sampled.add(_family_of(sample.name, families))
        samples.append(sample)
    return samples, families


def parse(text):
    """Exposition text -> list of (name, {labels}, float value); see parse_exposition."""
    return [(s.name, s.labels, s.value) for s in parse_exposition(text)[0]]


def select(samples, name, **labels):
    return [s for s in samples if s[0] == name and all(s[1].get(k) == v for k, v in labels.items())]


def value(samples, name, **labels):
    found = select(samples, name, **labels)
    if len(found) != 1:
        raise AssertionError("expected one %s%s, found %d" % (name, labels, len(found)))
    return found[0][2]


def promtool_check(text):
    """Runs `promtool check metrics`; returns (ran, problems)."""
    try:
        p = subprocess.run(["promtool", "check", "metrics"], input=text, text=True,
                           capture_output=True, timeout=60)
    except FileNotFoundError:
        return False, "promtool not installed"
    return True, (p.stdout + p.stderr).strip() if p.returncode != 0 else ""


class Checker:
    """Collects failures so one run reports all of them."""

    def __init__(self):
        self.failures = []
        self.passed = 0

    def check(self, cond, what):
        if cond:
            self.passed += 1
        else:
            self.failures.append(what)
            print("FAIL:", what, flush=True)

    def finish(self, skipped=()):
        for s in skipped:
            print("SKIPPED:", s)
        print("%d passed, %d failed" % (self.passed, len(self.failures)))
        if self.failures:
            return 1
        return SKIP if skipped and self.passed == 0 else 0
