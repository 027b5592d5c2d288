#!/usr/bin/env python3
"""Static checker for hostiso_exporter's Grafana dashboards (python3 stdlib only).

Usage:
    check_dashboards.py [--dashboards DIR] [--spec metrics.md] [--rules FILE]
                        [--no-promtool] [--quiet]

Exit 0: every dashboard passes. Exit 1: problems, one line each on stderr.

Checks, for every dashboards/*.json:
  * valid JSON, an object with a non-empty title and a uid (at most 40 chars,
    unique across the dashboards); schemaVersion 37..39; "id" is null;
  * not an export: no __inputs / __requires, no ${DS_...} placeholders;
  * template variables `datasource` (type datasource, query prometheus),
    `cluster` (query on hostiso_build_info, All = ".*"), `job` (query on
    hostiso_build_info) and `instance` (query on hostiso_build_info filtered by
    $job); query variables use the datasource variable;
  * every panel, including panels nested in collapsed rows, and every target
    and annotation uses the data source variable, in uid form
    {"type": "prometheus", "uid": "${datasource}"}; rows may omit it;
  * every non-row panel has fieldConfig.defaults.unit, at least one target,
    unique refIds, a gridPos inside the 24-column grid that overlaps no other
    panel, and a unique id; no AngularJS panel types (graph, singlestat...);
    a transformation naming a column "Value #X" needs a target with refId X;
  * every target expression parses (a small PromQL parser below; optionally
    also `promtool check rules`), and in it:
      - every vector selector filters job=~"$job", instance=~"$instance" and
        LABEL=~"$cluster" (LABEL: the mixin's clusterLabel, `cluster` by default);
      - every range window is [$__rate_interval], with these exceptions:
          (a) the selector is a recording rule (name contains ':'): rules are
              already rated over 5m, and *_over_time smoothing of them over a
              long window is deliberate;
          (b) the enclosing function is deriv() or predict_linear() and the
              window is a literal of at least 1h: trends need a long window
              and $__rate_interval (about a minute) would only show noise;
        no other hard-coded window ([5m], [1h], subqueries...) is allowed,
        nor `offset` (a comparison with the past is a deliberate design
        decision: add an exception here first);
      - a metric whose name ends in _total (a counter), or a _bucket, _count
        or _sum series of a histogram of the contract, appears only as the
        range-vector argument of rate(), irate() or increase(); conversely
        those functions are applied only to those;
      - every metric name exists: hostiso_* names must appear in the metric
        contract (../shared/spec/metrics.md from the repository root, or
        --spec), names containing ':' must be `record:` names of
        alerts/hostiso.rules.yml (--rules; a missing file is an error: the
        rendered rules are the one place the dashboards' recording rules are
        read from), other names must be
        Prometheus' own series (up, scrape_*); a histogram of the contract
        (type `histogram` in its table) exists as NAME_bucket, NAME_count and
        NAME_sum, never as the bare NAME.
  * dashboards/provisioning/dashboards.yaml is a file provider with folder
    hostiso and an absolute options.path; datasources.yaml defines a
    Prometheus data source with uid prometheus; if a service of a compose file
    in the repository mounts the provisioning file, it must also mount the
    dashboards directory at that path.
Every YAML file (rules, provisioning, compose) is read with python3-yaml.
"""

import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

# Series Prometheus itself adds for every target.
PROMETHEUS_SERIES = {"up", "scrape_duration_seconds", "scrape_samples_scraped",
                     "scrape_samples_post_metric_relabeling", "scrape_series_added"}
COUNTER_FUNCS = {"rate", "irate", "increase"}
HISTOGRAM_SUFFIXES = ("_bucket", "_count", "_sum")
LONG_WINDOW_FUNCS = {"deriv", "predict_linear"}
LONG_WINDOW_MIN_SECONDS = 3600
RATE_INTERVAL = "$__rate_interval"
DS_VAR_UIDS = {"${datasource}", "$datasource"}
ROW = "row"
# AngularJS panels: deprecated in Grafana 10, removed in 11.
ANGULAR_PANELS = {"graph", "singlestat", "table-old", "grafana-piechart-panel",
                  "grafana-worldmap-panel", "grafana-singlestat-panel"}

# ---------------------------------------------------------------------------
# A small PromQL parser: enough of the grammar to find every selector, its
# range window and the function or operator around it. Grafana variables
# ($name, ${name}, ${name:fmt}) are accepted where a duration or number can be.
# ---------------------------------------------------------------------------
AGGREGATIONS = {"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count",
                "count_values", "bottomk", "topk", "quantile", "limitk",
                "limit_ratio"}
KEYWORD_BINOPS = {"and", "or", "unless", "atan2"}
PRECEDENCE = [("or",), ("and", "unless"), ("==", "!=", "<=", "<", ">=", ">"),
              ("+", "-"), ("*", "/", "%", "atan2"), ("^",)]
DURATION_RE = re.compile(r"(?:\d+(?:ms|[smhdwy]))+")
TOKEN_RE = re.compile(r"""
    (?P<ws>\s+|\#[^\n]*)
  | (?P<var>\$\{[A-Za-z0-9_]+(?::[A-Za-z0-9_]+)?\}|\$[A-Za-z0-9_]+|\[\[[A-Za-z0-9_]+\]\])
  | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  | (?P<dur>(?:\d+(?:ms|[smhdwy]))+(?![A-Za-z0-9_.]))
  | (?P<num>0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_:]*)
  | (?P<op>==|!=|>=|<=|=~|!~|[-+*/%^<>=(){}\[\],:@])
""", re.X)


class PromQLError(Exception):
    pass


class Tok:
    __slots__ = ("kind", "text", "pos")

    def __init__(self, kind, text, pos):
        self.kind, self.text, self.pos = kind, text, pos

    def __repr__(self):
        return "%s(%r)" % (self.kind, self.text)


def tokenize(expr):
    toks, pos = [], 0
    while pos < len(expr):
        m = TOKEN_RE.match(expr, pos)
        if not m:
            raise PromQLError("unexpected character %r at %d" % (expr[pos], pos))
        kind = m.lastgroup
        if kind != "ws":
            if kind == "var" and expr[pos] == "[":
                raise PromQLError("old-style variable %s: use $name" % m.group())
            toks.append(Tok(kind, m.group(), pos))
        pos = m.end()
    toks.append(Tok("eof", "", len(expr)))
    return toks


# AST nodes: plain dicts with a "node" key.
def _node(kind, **kw):
    kw["node"] = kind
    return kw


class Parser:
    def __init__(self, expr):
        self.toks = tokenize(expr)
        self.i = 0

    def peek(self, k=0):
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def next(self):
        t = self.toks[self.i]
        self.i = min(self.i + 1, len(self.toks) - 1)
        return t

    def accept(self, text):
        if self.peek().text == text and self.peek().kind in ("op", "ident"):
            return self.next()
        return None

    def expect(self, text):
        t = self.next()
        if t.text != text:
            raise PromQLError("expected %r at %d, found %r" % (text, t.pos, t.text or "end"))
        return t

    def parse(self):
        e = self.expr(0)
        if self.peek().kind != "eof":
            t = self.peek()
            raise PromQLError("unexpected %r at %d" % (t.text, t.pos))
        return e

    def _is_binop(self, level):
        t = self.peek()
        if t.kind == "op" and t.text in PRECEDENCE[level]:
            return True
        return (t.kind == "ident" and t.text.lower() in PRECEDENCE[level]
                and t.text.lower() in KEYWORD_BINOPS)

    def expr(self, level):
        if level == len(PRECEDENCE):
            return self.unary()
        lhs = self.expr(level + 1)
        while self._is_binop(level):
            op = self.next().text.lower()
            mods = self.binop_modifiers()
            # ^ is right associative
            rhs = self.expr(level if op == "^" else level + 1)
            lhs = _node("binop", op=op, lhs=lhs, rhs=rhs, mods=mods)
        return lhs

    def binop_modifiers(self):
        mods = {}
        if self.accept("bool"):
            mods["bool"] = True
        for kw in ("on", "ignoring"):
            if self.accept(kw):
                mods[kw] = self.label_list()
        for kw in ("group_left", "group_right"):
            if self.accept(kw):
                mods[kw] = self.label_list() if self.peek().text == "(" else []
        return mods

    def label_list(self):
        self.expect("(")
        labels = []
        while self.peek().text != ")":
            t = self.next()
            if t.kind not in ("ident", "str"):
                raise PromQLError("bad label name %r at %d" % (t.text, t.pos))
            labels.append(t.text)
            if not self.accept(","):
                break
        self.expect(")")
        return labels

    def unary(self):
        t = self.peek()
        if t.kind == "op" and t.text in ("-", "+"):
            self.next()
            return _node("unary", op=t.text, expr=self.unary_pow())
        return self.postfix()

    def unary_pow(self):
        # -a ^ b is -(a ^ b)
        e = self.postfix()
        if self.peek().text == "^":
            self.next()
            self.binop_modifiers()
            e = _node("binop", op="^", lhs=e, rhs=self.expr(len(PRECEDENCE) - 1), mods={})
        return e

    def postfix(self):
        e = self.primary()
        while True:
            t = self.peek()
            if t.text == "[" and t.kind == "op":
                self.next()
                rng = self.duration("range")
                step = None
                subquery = False
                if self.accept(":"):
                    subquery = True
                    if self.peek().text != "]":
                        step = self.duration("subquery step")
                self.expect("]")
                if (not subquery and e["node"] == "selector" and e.get("range") is None
                        and not e.get("offset")):
                    e["range"] = rng
                elif subquery:
                    e = _node("subquery", expr=e, range=rng, step=step)
                else:
                    raise PromQLError("range [%s] applied to a non-selector at %d"
                                      % (rng, t.pos))
            elif t.kind == "ident" and t.text == "offset":
                self.next()
                neg = bool(self.accept("-"))
                e["offset"] = ("-" if neg else "") + self.duration("offset")
            elif t.text == "@" and t.kind == "op":
                self.next()
                if self.peek().kind == "ident" and self.peek().text in ("start", "end"):
                    self.next()
                    self.expect("(")
                    self.expect(")")
                else:
                    self.accept("-")
                    n = self.next()
                    if n.kind not in ("num", "var"):
                        raise PromQLError("bad @ modifier at %d" % n.pos)
                e["at"] = True
            else:
                return e

    def duration(self, what):
        t = self.next()
        if t.kind == "dur":
            return t.text
        if t.kind == "var":  # ${name} and $name are the same variable
            return "$" + t.text.strip("${}").split(":")[0]
        if t.kind == "num" and self.peek().kind == "ident" and re.fullmatch(
                r"(?:ms|[smhdwy])(?:\d+(?:ms|[smhdwy]))*", self.peek().text):
            # tokenizer split e.g. "5m" -> never happens with DURATION first, kept
            # for safety
            return t.text + self.next().text
        raise PromQLError("bad %s %r at %d" % (what, t.text, t.pos))

    def primary(self):
        t = self.peek()
        if t.text == "(" and t.kind == "op":
            self.next()
            e = self.expr(0)
            self.expect(")")
            return _node("paren", expr=e)
        if t.kind in ("num", "var"):
            self.next()
            return _node("number", text=t.text)
        if t.kind == "dur":
            # a bare duration is a number of seconds in recent PromQL; reject it
            raise PromQLError("unexpected duration %r at %d" % (t.text, t.pos))
        if t.kind == "str":
            self.next()
            return _node("string", text=t.text)
        if t.text == "{" and t.kind == "op":
            return self.selector(None, t.pos)
        if t.kind == "ident":
            low = t.text.lower()
            if low in ("inf", "nan"):
                self.next()
                return _node("number", text=t.text)
            if low in AGGREGATIONS and self._looks_like_aggregation():
                return self.aggregation()
            if self.peek(1).text == "(" and ":" not in t.text:
                return self.call()
            self.next()
            return self.selector(t.text, t.pos)
        raise PromQLError("unexpected %r at %d" % (t.text or "end of expression", t.pos))

    def _looks_like_aggregation(self):
        nxt = self.peek(1).text.lower()
        return nxt in ("(", "by", "without")

    def aggregation(self):
        op = self.next().text.lower()
        grouping = None
        if self.peek().text.lower() in ("by", "without"):
            grouping = (self.next().text.lower(), self.label_list())
        args = self.call_args()
        if self.peek().kind == "ident" and self.peek().text.lower() in ("by", "without"):
            if grouping is not None:
                raise PromQLError("two grouping clauses on %s" % op)
            grouping = (self.next().text.lower(), self.label_list())
        return _node("agg", op=op, args=args, grouping=grouping)

    def call(self):
        name = self.next().text
        return _node("call", func=name, args=self.call_args())

    def call_args(self):
        self.expect("(")
        args = []
        while self.peek().text != ")":
            args.append(self.expr(0))
            if not self.accept(","):
                break
        self.expect(")")
        return args

    def selector(self, name, pos):
        matchers = []
        if self.peek().text == "{":
            self.next()
            while self.peek().text != "}":
                lt = self.next()
                if lt.kind not in ("ident", "str"):
                    raise PromQLError("bad label name %r at %d" % (lt.text, lt.pos))
                op = self.next()
                if op.text not in ("=", "!=", "=~", "!~"):
                    raise PromQLError("bad matcher operator %r at %d" % (op.text, op.pos))
                val = self.next()
                if val.kind != "str":
                    raise PromQLError("label value must be a string at %d" % val.pos)
                matchers.append((lt.text, op.text, _unquote(val.text)))
                if not self.accept(","):
                    break
            self.expect("}")
        if name is None:
            names = [v for (l, o, v) in matchers if l == "__name__" and o == "="]
            name = names[0] if names else None
            if not matchers:
                raise PromQLError("empty selector {} at %d" % pos)
        return _node("selector", name=name, matchers=matchers, range=None, pos=pos)


def _unquote(s):
    if s[0] == "`":
        return s[1:-1]
    return re.sub(r"\\(.)", r"\1", s[1:-1])


def parse_promql(expr):
    return Parser(expr).parse()


def walk(node, parent=None):
    """Yields (node, parent) for every node."""
    yield node, parent
    for key in ("expr", "lhs", "rhs"):
        if key in node:
            yield from walk(node[key], node)
    for a in node.get("args", []):
        yield from walk(a, node)


def duration_seconds(d):
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800,
             "y": 31536000}
    if not DURATION_RE.fullmatch(d or ""):
        return None
    return sum(int(n) * units[u] for n, u in re.findall(r"(\d+)(ms|[smhdwy])", d))


def is_cumulative(name):
    """A counter, or a series of a histogram (its buckets, count and sum are
    counters too)."""
    return name.endswith("_total") or name.endswith(HISTOGRAM_SUFFIXES)


def check_expr(expr, known_metrics, rules, where, require_filters=True):
    """Returns a list of problem strings for one PromQL expression."""
    problems = []
    try:
        ast = parse_promql(expr)
    except PromQLError as e:
        return ["%s: PromQL does not parse (%s): %s" % (where, e, expr)]
    for node, parent in walk(ast):
        kind = node["node"]
        pfunc = parent.get("func") if parent and parent["node"] == "call" else None
        if kind == "call" and node["func"] in COUNTER_FUNCS:
            arg = node["args"][0] if node["args"] else None
            if (arg is None or arg["node"] != "selector" or arg.get("range") is None
                    or not is_cumulative(arg.get("name") or "")):
                problems.append("%s: %s() applied to something that is not a counter "
                                "range selector (name ending in _total, or a histogram's "
                                "_bucket/_count/_sum)" % (where, node["func"]))
        if kind == "subquery":
            if node["range"] != RATE_INTERVAL:
                problems.append("%s: subquery window [%s]: use [$__rate_interval] (subqueries "
                                "with other windows are not an allowed exception)"
                                % (where, node["range"]))
        if kind != "selector":
            continue
        name = node.get("name")
        label = name or "{...}"
        # metric existence
        if name is None:
            problems.append("%s: selector without a metric name" % where)
        elif ":" in name:
            if name not in rules:
                problems.append("%s: unknown recording rule %s" % (where, name))
        elif name.startswith("hostiso_"):
            if name not in known_metrics:
                problems.append("%s: unknown metric %s (not in the metric contract)"
                                % (where, name))
        elif name not in PROMETHEUS_SERIES:
            problems.append("%s: unknown metric %s (neither hostiso_*, a recording rule "
                            "nor a Prometheus series)" % (where, name))
        # counters only inside rate/increase/irate
        if name and is_cumulative(name):
            if node.get("range") is None or pfunc not in COUNTER_FUNCS:
                problems.append("%s: counter %s used outside rate()/increase()/irate()"
                                % (where, name))
        # windows
        rng = node.get("range")
        if rng is not None and rng != RATE_INTERVAL:
            secs = duration_seconds(rng)
            if name and ":" in name:
                pass  # exception (a): recording rule
            elif pfunc in LONG_WINDOW_FUNCS and secs is not None \
                    and secs >= LONG_WINDOW_MIN_SECONDS:
                pass  # exception (b): long trend window for deriv/predict_linear
            else:
                problems.append(
                    "%s: range [%s] on %s: use [$__rate_interval] (hard-coded windows are "
                    "only allowed on recording rules and for deriv/predict_linear over >= 1h)"
                    % (where, rng, label))
        if node.get("offset"):
            problems.append("%s: offset on %s is not allowed" % (where, label))
        # filters
        if require_filters:
            ms = {(l, o, v) for (l, o, v) in node["matchers"]}
            for var in ("job", "instance"):
                if not ({(var, "=~", "$" + var), (var, "=~", "${%s}" % var)} & ms):
                    problems.append('%s: selector %s lacks %s=~"$%s"'
                                    % (where, label, var, var))
            # the cluster label's name is the mixin's clusterLabel: any name
            if not any(o == "=~" and v in ("$cluster", "${cluster}") for (_, o, v) in ms):
                problems.append('%s: selector %s lacks LABEL=~"$cluster" (the mixin\'s '
                                'clusterLabel)' % (where, label))
    return problems


def substitute_variables(expr, rate_interval="1m", job=".*", instance=".*", cluster=".*"):
    """Replaces the Grafana variables the dashboards use by concrete values."""
    values = {"job": job, "instance": instance, "cluster": cluster,
              "__rate_interval": rate_interval,
              "__interval": rate_interval, "__range": "1h", "__range_s": "3600",
              "datasource": "prometheus"}

    def repl(m):
        name = m.group(1) or m.group(2)
        name = name.split(":")[0]
        if name not in values:
            raise KeyError("unknown Grafana variable $%s" % name)
        return values[name]
    return re.sub(r"\$\{([A-Za-z0-9_:]+)\}|\$([A-Za-z0-9_]+)", repl, expr)


# ---------------------------------------------------------------------------
# Reference data
# ---------------------------------------------------------------------------
def spec_candidates(explicit):
    if explicit:
        return [explicit]
    c = []
    if os.environ.get("HOSTISO_METRICS_SPEC"):
        c.append(os.environ["HOSTISO_METRICS_SPEC"])
    c += [os.path.join(REPO, "..", "shared", "spec", "metrics.md"),
          os.path.join(REPO, "docs", "metrics.md"),
          os.path.join(REPO, "docs", "spec", "metrics.md")]
    return c


def load_metric_names(spec_path):
    """hostiso_* names of the contract; a histogram (a table row of type
    `histogram`) as its _bucket, _count and _sum series."""
    with open(spec_path, encoding="utf-8") as f:
        text = f.read()
    names = set(re.findall(r"hostiso_[a-z0-9_]*[a-z0-9]", text))
    for row in re.findall(r"^\|([^|\n]*)\|\s*histogram\s*\|", text, re.M):
        for h in re.findall(r"hostiso_[a-z0-9_]*[a-z0-9]", row):
            names.discard(h)
            names.update(h + suffix for suffix in HISTOGRAM_SUFFIXES)
    return names


def load_rules(rules_path):
    """Every rule (a dict) of a Prometheus rules file, read with python3-yaml.
    Raises ValueError when the file is not {groups: [{name, rules: [...]}, ...]}."""
    with open(rules_path, encoding="utf-8") as f:
        try:
            doc = yaml.safe_load(f)
        except yaml.YAMLError as e:
            raise ValueError("%s: not valid YAML: %s"
                             % (rules_path, " ".join(str(e).split()))) from e
    groups = doc.get("groups") if isinstance(doc, dict) else None
    if not isinstance(groups, list):
        raise ValueError("%s: no groups list" % rules_path)
    rules = []
    for group in groups:
        group_rules = group.get("rules") if isinstance(group, dict) else None
        if not isinstance(group_rules, list) or \
                not all(isinstance(r, dict) for r in group_rules):
            raise ValueError("%s: a group without a list of rules" % rules_path)
        rules += group_rules
    return rules


def load_recording_rules(rules_path):
    """Returns (names, note): the `record:` names of the rendered rules file (the
    contract's list of recording rules is written once, in tests/alerts/lint_alerts.py,
    which checks the rendered file against it). Raises OSError when the file is
    missing, ValueError when it is not a rules file."""
    names = {r["record"] for r in load_rules(rules_path) if isinstance(r.get("record"), str)}
    return names, "recording rules: %d from %s" % (len(names), rules_path)


# ---------------------------------------------------------------------------
# Dashboard checks
# ---------------------------------------------------------------------------
def iter_panels(panels, parent=None):
    for p in panels or []:
        yield p, parent
        if p.get("type") == ROW:
            yield from iter_panels(p.get("panels"), p)


def ds_is_var(ds):
    return (isinstance(ds, dict) and ds.get("uid") in DS_VAR_UIDS
            and ds.get("type") == "prometheus")


def panel_name(p):
    return 'panel %s "%s"' % (p.get("id"), p.get("title", ""))


def var_query(v):
    q = v.get("query")
    if isinstance(q, dict):
        q = q.get("query", "")
    return q or ""


LABEL_VALUES_RE = re.compile(r"^\s*label_values\(\s*(.+?)\s*,\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$")


def check_dashboard(path, data, known_metrics, rules):
    """Every problem of one dashboard, each prefixed by the file's name."""
    name = os.path.basename(path)
    if not isinstance(data, dict):
        return ["%s: top level is not a JSON object" % name]
    problems = (check_dashboard_metadata(data)
                + check_template_variables(data, known_metrics, rules)
                + check_annotations(data, known_metrics, rules)
                + check_panels(data, known_metrics, rules)
                + check_overlaps(data.get("panels") or []))
    return ["%s: %s" % (name, p) for p in problems]


def check_dashboard_metadata(data):
    """Plain dashboard JSON (not an export) with title, uid, schemaVersion, null id."""
    problems = []
    for k in ("__inputs", "__requires", "__elements"):
        if k in data:
            problems.append("%s present: this is a Grafana export, commit plain dashboard JSON"
                            % k)
    raw = json.dumps(data)
    for m in sorted(set(re.findall(r"\$\{DS_[A-Z0-9_]+\}", raw))):
        problems.append("export placeholder %s: use ${datasource}" % m)
    if not data.get("title"):
        problems.append("no title")
    uid = data.get("uid")
    if not uid or not isinstance(uid, str) or len(uid) > 40:
        problems.append("uid missing or longer than 40 characters")
    sv = data.get("schemaVersion")
    if not isinstance(sv, int) or not 37 <= sv <= 39:
        problems.append("schemaVersion %r: expected 37..39 (Grafana 9/10)" % (sv,))
    if data.get("id") is not None:
        problems.append('"id" must be null in a committed dashboard')
    return problems


def check_template_variables(data, known_metrics, rules):
    """The datasource variable, the datasource and query of every query variable, and
    the cluster, job and instance variables."""
    problems = []
    tvars = {v.get("name"): v for v in (data.get("templating") or {}).get("list", [])}
    ds_var = tvars.get("datasource")
    if not ds_var or ds_var.get("type") != "datasource" or ds_var.get("query") != "prometheus":
        problems.append("template variable `datasource` (type datasource, query prometheus) "
                        "missing")
    for vname, v in tvars.items():
        if v.get("type") == "query":
            if not ds_is_var(v.get("datasource")):
                problems.append("variable %s: datasource must be ${datasource}" % vname)
            m = LABEL_VALUES_RE.match(var_query(v))
            if m:
                problems += check_expr(m.group(1), known_metrics, rules, "variable " + vname,
                                       require_filters=False)
    return problems + check_hostiso_variables(tvars)


def check_hostiso_variables(tvars):
    """job, cluster and instance: label_values queries on hostiso_build_info."""
    problems = []
    job = tvars.get("job")
    if not job or job.get("type") != "query" or \
            not re.search(r"label_values\(\s*hostiso_build_info\s*(\{[^}]*\})?\s*,\s*job\s*\)",
                          var_query(job)):
        problems.append("template variable `job` (query label_values(hostiso_build_info, job)) "
                        "missing")
    cluster = tvars.get("cluster")
    if not cluster or cluster.get("type") != "query" or cluster.get("allValue") != ".*" or \
            not re.search(r"label_values\(\s*hostiso_build_info\s*(\{[^}]*\})?\s*,\s*\w+\s*\)",
                          var_query(cluster)):
        problems.append('template variable `cluster` (label_values(hostiso_build_info, LABEL), '
                        'allValue ".*") missing')
    inst = tvars.get("instance")
    if not inst or inst.get("type") != "query" or not re.search(
            r'label_values\(\s*hostiso_build_info\s*\{[^}]*job=~"\$job"[^}]*\}\s*,\s*instance\s*\)',
            var_query(inst)):
        problems.append('template variable `instance` (label_values(hostiso_build_info'
                        '{job=~"$job"}, instance)) missing')
    return problems


def check_annotations(data, known_metrics, rules):
    """Prometheus annotations: the datasource variable and a valid expression."""
    problems = []
    for a in (data.get("annotations") or {}).get("list", []):
        if "expr" in a or (a.get("datasource") or {}).get("type") == "prometheus":
            if not ds_is_var(a.get("datasource")):
                problems.append('annotation "%s": datasource must be ${datasource}'
                                % a.get("name"))
            problems += check_expr(a.get("expr", ""), known_metrics, rules,
                                   'annotation "%s"' % a.get("name"))
    return problems


def check_panels(data, known_metrics, rules):
    """Every panel, rows and the panels nested in collapsed rows included."""
    problems = []
    ids = {}
    all_panels = list(iter_panels(data.get("panels")))
    if not [p for p, _ in all_panels if p.get("type") != ROW]:
        problems.append("no panels")
    for p, parent in all_panels:
        problems += check_panel_placement(p, parent, ids)
        if p.get("type") == ROW:
            if "datasource" in p and p["datasource"] is not None \
                    and not ds_is_var(p["datasource"]):
                problems.append("%s: row datasource must be ${datasource}" % panel_name(p))
        else:
            problems += check_panel_content(p, known_metrics, rules)
    return problems


def check_panel_placement(p, parent, ids):
    """Nested only in a collapsed row, a unique id, a gridPos on the 24-column grid.
    ids: panel id -> name of the panels seen so far (updated)."""
    problems = []
    pn = panel_name(p)
    if parent is not None and parent.get("type") == ROW and not parent.get("collapsed"):
        problems.append("%s is nested in row %s which is not collapsed"
                        % (pn, parent.get("title")))
    if p.get("id") in ids:
        problems.append("%s: duplicate panel id (also %s)" % (pn, ids[p.get("id")]))
    ids[p.get("id")] = pn
    gp = p.get("gridPos") or {}
    if not all(isinstance(gp.get(k), int) for k in ("x", "y", "w", "h")) \
            or gp["x"] < 0 or gp["w"] < 1 or gp["x"] + gp["w"] > 24:
        problems.append("%s: gridPos missing or outside the 24-column grid" % pn)
    return problems


def check_panel_content(p, known_metrics, rules):
    """A non-row panel: title, no AngularJS type, the datasource variable, a unit,
    its targets and the target columns its transformations name."""
    problems = []
    pn = panel_name(p)
    if not p.get("title"):
        problems.append("%s: no title" % pn)
    if p.get("type") in ANGULAR_PANELS:
        problems.append("%s: panel type %s is AngularJS (removed in Grafana 11); use "
                        "timeseries, stat, table..." % (pn, p.get("type")))
    if not ds_is_var(p.get("datasource")):
        problems.append('%s: datasource must be {"type": "prometheus", "uid": '
                        '"${datasource}"}, found %s' % (pn, json.dumps(p.get("datasource"))))
    unit = ((p.get("fieldConfig") or {}).get("defaults") or {}).get("unit")
    if not unit or not isinstance(unit, str):
        problems.append("%s: fieldConfig.defaults.unit is not set" % pn)
    target_problems, refs = check_targets(p, known_metrics, rules)
    problems += target_problems
    for ref in sorted(set(re.findall(r"Value #([A-Za-z0-9_]+)",
                                     json.dumps(p.get("transformations", []))))):
        if ref not in refs:
            problems.append("%s: a transformation uses column \"Value #%s\" but no target "
                            "has refId %s" % (pn, ref, ref))
    return problems


def check_targets(p, known_metrics, rules):
    """At least one target, unique refIds, the datasource variable, a valid
    expression. Returns (problems, the set of refIds)."""
    problems = []
    pn = panel_name(p)
    targets = p.get("targets") or []
    if not targets:
        problems.append("%s: no targets" % pn)
    refs = set()
    for t in targets:
        where = "%s target %s" % (pn, t.get("refId"))
        if t.get("refId") in refs:
            problems.append("%s: duplicate refId" % where)
        refs.add(t.get("refId"))
        if not ds_is_var(t.get("datasource")):
            problems.append('%s: datasource must be {"type": "prometheus", "uid": '
                            '"${datasource}"}, found %s' % (where, json.dumps(t.get("datasource"))))
        expr = t.get("expr")
        if not expr or not isinstance(expr, str):
            problems.append("%s: no expr" % where)
            continue
        problems += check_expr(expr, known_metrics, rules, where)
    return problems, refs


def check_overlaps(panels):
    """Panels at the top level (with rows) must not overlap; nor the panels
    inside one collapsed row."""
    problems = []

    def boxes(group):
        out = []
        for p in group:
            gp = p.get("gridPos") or {}
            try:
                out.append((p, int(gp["x"]), int(gp["y"]), int(gp["w"]), int(gp["h"])))
            except (KeyError, TypeError, ValueError):
                pass
        return out

    groups = [panels] + [p.get("panels") or [] for p in panels if p.get("type") == ROW]
    for group in groups:
        b = boxes(group)
        for i in range(len(b)):
            for j in range(i + 1, len(b)):
                p, x, y, w, h = b[i]
                q, x2, y2, w2, h2 = b[j]
                if x < x2 + w2 and x2 < x + w and y < y2 + h2 and y2 < y + h:
                    problems.append("%s overlaps %s" % (panel_name(p), panel_name(q)))
    return problems


def dashboard_exprs(data):
    """Every (where, expr, instant) of one dashboard: targets and annotations."""
    out = []
    for p, _ in iter_panels(data.get("panels")):
        if p.get("type") == ROW:
            continue
        for t in p.get("targets") or []:
            if t.get("expr"):
                out.append(("%s target %s" % (panel_name(p), t.get("refId")),
                            t["expr"], bool(t.get("instant"))))
    for a in (data.get("annotations") or {}).get("list", []):
        if a.get("expr"):
            out.append(('annotation "%s"' % a.get("name"), a["expr"], False))
    return out


def variable_queries(data):
    out = []
    for v in (data.get("templating") or {}).get("list", []):
        if v.get("type") == "query":
            out.append((v.get("name"), var_query(v)))
    return out


def load_dashboards(directory):
    """Returns ([(path, data or None, error or None)])."""
    out = []
    for path in sorted(glob.glob(os.path.join(directory, "*.json"))):
        try:
            with open(path, encoding="utf-8") as f:
                out.append((path, json.load(f), None))
        except (ValueError, OSError) as e:
            out.append((path, None, str(e)))
    return out


# ---------------------------------------------------------------------------
# Provisioning
# ---------------------------------------------------------------------------
def _read_yaml(path, label, problems):
    """The document of a YAML file (python3-yaml), or None with a problem appended."""
    try:
        with open(path, encoding="utf-8") as f:
            return yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as e:
        problems.append("%s: not valid YAML: %s" % (label, " ".join(str(e).split())))
        return None


def _list_of_mappings(doc, key):
    """doc[key] when it is a non-empty list of mappings, else None."""
    items = doc.get(key) if isinstance(doc, dict) else None
    if not isinstance(items, list) or not items or \
            not all(isinstance(i, dict) for i in items):
        return None
    return items


def check_dashboard_provider(dpath):
    """provisioning/dashboards.yaml: apiVersion 1, every provider a file provider
    in folder hostiso with an absolute options.path. Returns (problems, the first
    provider's options.path or None)."""
    where = "provisioning/dashboards.yaml"
    problems = []
    doc = _read_yaml(dpath, where, problems)
    if problems:
        return problems, None
    if not isinstance(doc, dict) or str(doc.get("apiVersion")) != "1":
        problems.append("%s: apiVersion: 1 missing" % where)
    providers = _list_of_mappings(doc, "providers")
    if providers is None:
        return problems + ["%s: no providers list" % where], None
    paths = []
    for provider in providers:
        if provider.get("type") != "file":
            problems.append("%s: provider type must be file" % where)
        if provider.get("folder") != "hostiso":
            problems.append('%s: folder must be "hostiso"' % where)
        options = provider.get("options")
        path = options.get("path") if isinstance(options, dict) else None
        if not isinstance(path, str) or not path.startswith("/"):
            problems.append("%s: options.path must be an absolute directory where "
                            "dashboards/*.json are mounted" % where)
            path = None
        paths.append(path)
    return problems, paths[0]


def check_datasource_provider(spath):
    """provisioning/datasources.yaml: a Prometheus data source with uid prometheus
    and an http(s)://host:port url."""
    where = "provisioning/datasources.yaml"
    problems = []
    doc = _read_yaml(spath, where, problems)
    if problems:
        return problems
    sources = _list_of_mappings(doc, "datasources")
    if sources is None:
        return ["%s: no datasources list" % where]
    ds = next((s for s in sources if s.get("uid") == "prometheus"), sources[0])
    if ds.get("type") != "prometheus":
        problems.append("%s: type must be prometheus" % where)
    if ds.get("uid") != "prometheus":
        problems.append("%s: uid must be prometheus" % where)
    url = ds.get("url")
    if not isinstance(url, str) or not re.match(r"https?://\S+:\d+", url):
        problems.append("%s: url missing" % where)
    return problems


def compose_mounts(service):
    """(source, target) of every volume of a compose service, short or long syntax."""
    volumes = service.get("volumes") if isinstance(service, dict) else None
    mounts = []
    for v in volumes if isinstance(volumes, list) else []:
        if isinstance(v, str) and ":" in v:
            source, target = v.split(":")[:2]
            mounts.append((source, target))
        elif isinstance(v, dict) and v.get("source") and v.get("target"):
            mounts.append((str(v["source"]), str(v["target"])))
    return mounts


def check_compose_files(repo, provider_path):
    """A compose file (owned by someone else) whose service mounts
    provisioning/dashboards.yaml must mount the dashboards directory, in the same
    service, where the provider looks for them. Returns (problems, notes)."""
    problems, notes = [], []
    composes = []
    for pat in ("docker-compose*.y*ml", "compose*.y*ml", "*/docker-compose*.y*ml",
                "*/compose*.y*ml", "*/*/docker-compose*.y*ml", "*/*/compose*.y*ml"):
        composes += glob.glob(os.path.join(repo, pat))
    want = os.path.normpath(provider_path)
    for c in sorted(set(composes)):
        doc = _read_yaml(c, c, problems)
        services = doc.get("services") if isinstance(doc, dict) else None
        for sname, service in (services.items() if isinstance(services, dict) else []):
            mounts = compose_mounts(service)
            if not any(os.path.normpath(s).endswith("provisioning/dashboards.yaml")
                       for s, _ in mounts):
                continue
            if any(os.path.basename(os.path.normpath(s)) == "dashboards"
                   and os.path.normpath(t) == want for s, t in mounts):
                notes.append("compose file %s mounts the dashboards at %s"
                             % (os.path.relpath(c, repo), provider_path))
            else:
                problems.append("%s (service %s) mounts provisioning/dashboards.yaml but not "
                                "the dashboards directory at %s" % (c, sname, provider_path))
    return problems, notes


def check_provisioning(dash_dir, repo):
    """Returns (problems, notes) of dashboards/provisioning/ and the compose files."""
    problems = []
    prov = os.path.join(dash_dir, "provisioning")
    dpath = os.path.join(prov, "dashboards.yaml")
    spath = os.path.join(prov, "datasources.yaml")
    provider_path = None
    if not os.path.exists(dpath):
        problems.append("provisioning: %s missing" % dpath)
    else:
        p, provider_path = check_dashboard_provider(dpath)
        problems += p
    if not os.path.exists(spath):
        problems.append("provisioning: %s missing" % spath)
    else:
        problems += check_datasource_provider(spath)
    notes = []
    if provider_path:
        p, notes = check_compose_files(repo, provider_path)
        problems += p
    return problems, notes


# ---------------------------------------------------------------------------
# Optional second opinion: promtool parses every expression.
# ---------------------------------------------------------------------------
def promtool_check(exprs):
    """exprs: [(where, expr)]. Returns (problems, note)."""
    promtool = shutil.which("promtool")
    if not promtool:
        return [], "note: promtool not found, PromQL checked by the built-in parser only"
    problems = []
    lines = ["groups:", "- name: dashboards", "  rules:"]
    index = []  # rule number (1-based) -> where
    for where, expr in exprs:
        try:
            concrete = substitute_variables(expr)
        except KeyError as e:
            problems.append("%s: %s" % (where, e))
            continue
        lines += ["  - record: dashboard:check:expr", "    expr: %s" % json.dumps(concrete)]
        index.append(where)
    with tempfile.TemporaryDirectory() as d:
        f = os.path.join(d, "dashboard_queries.yml")
        with open(f, "w") as fh:
            fh.write("\n".join(lines) + "\n")
        r = subprocess.run([promtool, "check", "rules", f], capture_output=True, text=True)
    if r.returncode != 0:
        out = (r.stderr + r.stdout).splitlines()
        found = False
        for line in out:
            m = re.search(r'rule (\d+), "[^"]*": (.*)', line)
            if m and 0 < int(m.group(1)) <= len(index):
                found = True
                problems.append("%s: promtool rejects the query: %s"
                                % (index[int(m.group(1)) - 1], m.group(2)))
        if not found:
            problems.append("promtool check rules failed: %s" % " | ".join(out[-3:]))
    return problems, "promtool: %d expressions parsed" % len(exprs)


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Check hostiso_exporter's Grafana dashboards.",
        epilog="See the module docstring for the list of checks and allowed exceptions.")
    ap.add_argument("--dashboards", default=os.path.join(REPO, "dashboards"),
                    help="directory holding *.json and provisioning/ (default: %(default)s)")
    ap.add_argument("--spec", help="metric contract (default: ../shared/spec/metrics.md "
                    "relative to the repository root, $HOSTISO_METRICS_SPEC, docs/metrics.md)")
    ap.add_argument("--rules", default=os.path.join(REPO, "alerts", "hostiso.rules.yml"),
                    help="Prometheus rules file with the recording rules (default: %(default)s)")
    ap.add_argument("--no-promtool", action="store_true",
                    help="do not ask promtool to parse the queries")
    ap.add_argument("--quiet", "-q", action="store_true")
    args = ap.parse_args(argv)

    problems, notes = [], []
    spec = next((p for p in spec_candidates(args.spec) if os.path.exists(p)), None)
    if spec is None:
        print("check_dashboards: metric contract not found (looked at: %s); pass --spec"
              % ", ".join(spec_candidates(args.spec)), file=sys.stderr)
        return 1
    known = load_metric_names(spec)
    if len(known) < 10:
        print("check_dashboards: %s lists only %d hostiso_* names: not the metric contract?"
              % (spec, len(known)), file=sys.stderr)
        return 1
    notes.append("metric contract: %d names from %s" % (len(known), os.path.normpath(spec)))
    try:
        rules, note = load_recording_rules(args.rules)
    except (ValueError, OSError) as e:
        print("check_dashboards: recording rules: %s" % e, file=sys.stderr)
        return 1
    notes.append(note)

    dashboards = load_dashboards(args.dashboards)
    if not dashboards:
        problems.append("no dashboards (*.json) in %s" % args.dashboards)
    uids = {}
    all_exprs = []
    for path, data, err in dashboards:
        name = os.path.basename(path)
        if err:
            problems.append("%s: not valid JSON: %s" % (name, err))
            continue
        problems += check_dashboard(path, data, known, rules)
        if isinstance(data, dict):
            uid = data.get("uid")
            if uid in uids:
                problems.append("%s: uid %r also used by %s" % (name, uid, uids[uid]))
            uids[uid] = name
            all_exprs += [("%s: %s" % (name, w), e) for w, e, _ in dashboard_exprs(data)]
    p, n = check_provisioning(args.dashboards, REPO)
    problems += p
    notes += n
    if not args.no_promtool and all_exprs:
        p, note = promtool_check(all_exprs)
        problems += p
        notes.append(note)

    if not args.quiet:
        for n in notes:
            print(n)
    if problems:
        for m in problems:
            print("FAIL " + m, file=sys.stderr)
        print("check_dashboards: %d problem(s) in %d dashboard(s)"
              % (len(problems), len(dashboards)), file=sys.stderr)
        return 1
    if not args.quiet:
        print("check_dashboards: OK, %d dashboards, %d queries"
              % (len(dashboards), len(all_exprs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
