#!/usr/bin/env python3
"""Consistency lint for the hostiso alerting files (python3 stdlib only).

Usage: lint_alerts.py RULES_YML RUNBOOK_MD TEST_YML
       lint_alerts.py --list RULES_YML     (prints "alertname severity" lines)

Checks, for every alerting rule in RULES_YML:
  - labels.severity is one of critical, warning, info;
  - annotations summary, description and runbook_url are present and non-empty,
    summary is static text (no template), description is templated with
    $labels.instance (except for absent() alerts), runbook_url is the project URL + '#' + lowercase name;
  - RUNBOOK_MD has a heading that is exactly the alert name (GitHub anchor =
    lowercase name) and the alert appears in the runbook's summary table;
  - TEST_YML has at least one alert_rule_test where the alert fires (non-empty
    exp_alerts, each with exp_labels and exp_annotations) and one where it must
    not fire (empty exp_alerts).
And for the recording rules: the names are exactly the contract's list, and every
one is evaluated by at least one promql_expr_test.

YAML is read with a small parser for the block-style subset these files use
(mappings, sequences, quoted/plain scalars, |/> block scalars, [] and {}).
Anything outside that subset is an error, never silently skipped.
Exit status: 0 clean, 1 findings, 2 usage or parse error.
"""
import re
import sys

RUNBOOK_BASE = "https://github.com/hostiso/hostiso_exporter/blob/main/alerts/runbook.md#"
RECORDING_RULES = [
    "instance:hostiso_cpu_steal:ratio_rate5m",
    "instance_cpu:hostiso_cpu_steal:ratio_rate5m",
    "instance_role_consumer:hostiso_cpu_seconds:share_rate5m",
    "instance_domain:hostiso_vcpu_delay:ratio_rate5m",
    "instance_policy:hostiso_vcpus_allocated:ratio",
    "instance:hostiso_memory_guest_allocated:ratio",
    "instance:hostiso_memory_reserve_headroom:ratio",
    "instance:hostiso_disk_reserve_headroom:ratio",
    "instance:hostiso_disk_free:ratio",
]
SEVERITIES = ("critical", "warning", "info")


class YamlError(Exception):
    pass


class _Line:
    __slots__ = ("no", "indent", "text")

    def __init__(self, no, indent, text):
        self.no, self.indent, self.text = no, indent, text


def _strip_comment(s):
    """Remove a trailing ' #...' comment outside quotes."""
    quote = None
    for i, c in enumerate(s):
        if quote:
            if c == quote:
                quote = None
        elif c in "'\"":
            quote = c
        elif c == "#" and (i == 0 or s[i - 1] in " \t"):
            return s[:i].rstrip()
    return s.rstrip()


def _split_key(s):
    """Return (key, rest) if s is 'key: rest' or 'key:', else None."""
    quote = None
    depth = 0
    for i, c in enumerate(s):
        if quote:
            if c == quote:
                quote = None
            continue
        if c in "'\"":
            if i == 0:
                quote = c
            continue
        if c in "[{":
            depth += 1
        elif c in "]}":
            depth -= 1
        elif c == ":" and depth == 0 and (i + 1 == len(s) or s[i + 1] == " "):
            return _scalar(s[:i].strip(), None), s[i + 1:].strip()
    return None


def _scalar(s, no):
    if s.startswith('"'):
        if not s.endswith('"') or len(s) < 2:
            raise YamlError("line %s: unterminated double-quoted scalar" % no)
        body = s[1:-1]
        return re.sub(r'\\(.)', lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)
    if s.startswith("'"):
        if not s.endswith("'") or len(s) < 2:
            raise YamlError("line %s: unterminated single-quoted scalar" % no)
        return s[1:-1].replace("''", "'")
    if s == "[]":
        return []
    if s == "{}":
        return {}
    if s.startswith("["):
        if not s.endswith("]"):
            raise YamlError("line %s: multi-line flow sequence not supported" % no)
        items, cur, quote = [], "", None
        for c in s[1:-1]:
            if quote:
                cur += c
                if c == quote:
                    quote = None
            elif c in "'\"":
                quote = c
                cur += c
            elif c == ",":
                items.append(cur.strip())
                cur = ""
            elif c in "[{":
                raise YamlError("line %s: nested flow collections not supported" % no)
            else:
                cur += c
        if cur.strip():
            items.append(cur.strip())
        return [_scalar(x, no) for x in items]
    if s.startswith(("{", "&", "*", "!", "%", "@", "`")):
        raise YamlError("line %s: unsupported YAML construct %r" % (no, s[:20]))
    return s


class _Parser:
    def __init__(self, text):
        self.raw = text.split("\n")
        self.lines = []  # structural lines, comments stripped
        self.pos = 0
        self.text = text

    def load(self):
        self.idx = 0
        self._next_structural()
        if self.idx >= len(self.raw):
            return None
        node = self._node(self._indent_of(self.idx))
        self._next_structural()
        if self.idx < len(self.raw):
            raise YamlError("line %d: unexpected content (bad indentation?)" % (self.idx + 1))
        return node

    # helpers over raw lines, with an override for the current line's text
    _override = None

    def _indent_of(self, i):
        if self._override and self._override[0] == i:
            return self._override[1]
        line = self.raw[i]
        if "\t" in line[: len(line) - len(line.lstrip())]:
            raise YamlError("line %d: tab indentation" % (i + 1))
        return len(line) - len(line.lstrip(" "))

    def _text_of(self, i):
        if self._override and self._override[0] == i:
            return self._override[2]
        return _strip_comment(self.raw[i].strip())

    def _next_structural(self):
        while self.idx < len(self.raw):
            if self._override and self._override[0] == self.idx:
                return
            t = self.raw[self.idx].strip()
            if t and not t.startswith("#") and t != "---":
                return
            self.idx += 1

    def _node(self, indent):
        t = self._text_of(self.idx)
        if t == "-" or t.startswith("- "):
            return self._seq(indent)
        if _split_key(t) is not None:
            return self._map(indent)
        raise YamlError("line %d: expected mapping or sequence, got %r" % (self.idx + 1, t[:40]))

    def _value(self, rest, parent_indent, allow_same_indent_seq):
        """Parse the value after 'key:' or '- '; self.idx is the line holding it."""
        no = self.idx + 1
        if rest.startswith(("|", ">")):
            self.idx += 1
            return self._block_scalar(rest, parent_indent, no)
        if rest:
            self.idx += 1
            return _scalar(rest, no)
        self.idx += 1
        self._next_structural()
        if self.idx >= len(self.raw):
            return None
        ind = self._indent_of(self.idx)
        t = self._text_of(self.idx)
        if ind > parent_indent:
            return self._node(ind)
        if allow_same_indent_seq and ind == parent_indent and (t == "-" or t.startswith("- ")):
            return self._seq(ind)
        return None

    def _block_scalar(self, header, parent_indent, no):
        m = re.fullmatch(r"([|>])([+-]?)", header)
        if not m:
            raise YamlError("line %d: unsupported block scalar header %r" % (no, header))
        style, chomp = m.groups()
        body = []
        block_indent = None
        while self.idx < len(self.raw):
            line = self.raw[self.idx]
            if not line.strip():
                body.append("")
                self.idx += 1
                continue
            ind = len(line) - len(line.lstrip(" "))
            if ind <= parent_indent:
                break
            if block_indent is None:
                block_indent = ind
            if ind < block_indent:
                raise YamlError("line %d: bad block scalar indentation" % (self.idx + 1))
            body.append(line[block_indent:])
            self.idx += 1
        # trailing blank lines belong to chomping, not to the content
        trailing = 0
        while body and body[-1] == "":
            body.pop()
            trailing += 1
        if style == "|":
            text = "\n".join(body)
        else:
            text = ""
            for i, l in enumerate(body):
                if i == 0:
                    text = l
                elif l == "":
                    text += "\n"
                elif body[i - 1] == "" or l.startswith(" ") or body[i - 1].startswith(" "):
                    text += ("\n" if body[i - 1] != "" else "") + l
                else:
                    text += " " + l
        if chomp == "-" or not body:
            return text
        if chomp == "+":
            return text + "\n" * (trailing + 1)
        return text + "\n"

    def _seq(self, indent):
        out = []
        while True:
            self._next_structural()
            if self.idx >= len(self.raw) or self._indent_of(self.idx) != indent:
                break
            t = self._text_of(self.idx)
            if not (t == "-" or t.startswith("- ")):
                break
            rest = t[1:].lstrip(" ")
            item_indent = indent + (len(t) - len(rest))
            if rest and not rest.startswith(("'", '"', "[", "{", "|", ">")) and _split_key(rest):
                self._override = (self.idx, item_indent, rest)
                out.append(self._map(item_indent))
            else:
                out.append(self._value(rest, indent, False))
        return out

    def _map(self, indent):
        out = {}
        while True:
            self._next_structural()
            if self.idx >= len(self.raw) or self._indent_of(self.idx) != indent:
                break
            t = self._text_of(self.idx)
            if t == "-" or t.startswith("- "):
                break
            kv = _split_key(t)
            if kv is None:
                raise YamlError("line %d: expected 'key: value', got %r" % (self.idx + 1, t[:40]))
            key, rest = kv
            if key in out:
                raise YamlError("line %d: duplicate key %r" % (self.idx + 1, key))
            self._override = None
            out[key] = self._value(rest, indent, True)
        return out


def load_yaml(text):
    return _Parser(text).load()


def github_anchor(heading):
    a = heading.strip().lower()
    a = re.sub(r"[^\w\- ]", "", a)
    return a.replace(" ", "-")


def lint(rules_path, runbook_path, test_path):
    problems = []
    with open(rules_path) as f:
        rules = load_yaml(f.read())
    with open(test_path) as f:
        tests = load_yaml(f.read())
    with open(runbook_path) as f:
        runbook = f.read()

    alerts, records = [], []
    for g in rules.get("groups") or []:
        for r in g.get("rules") or []:
            if "alert" in r:
                alerts.append(r)
            elif "record" in r:
                records.append(r["record"])
            else:
                problems.append("rule without alert/record in group %s" % g.get("name"))

    if sorted(records) != sorted(RECORDING_RULES):
        problems.append("recording rules differ from the contract: extra %s, missing %s" % (
            sorted(set(records) - set(RECORDING_RULES)), sorted(set(RECORDING_RULES) - set(records))))

    headings = set()
    for line in runbook.splitlines():
        m = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if m:
            headings.add(m.group(1))
    # the summary table: the first markdown table in the runbook
    table_rows = []
    in_table = False
    for line in runbook.splitlines():
        if line.startswith("|"):
            in_table = True
            table_rows.append(line)
        elif in_table:
            break

    firing, silent = {}, {}
    expr_tests = []
    for tg in (tests or {}).get("tests") or []:
        for at in tg.get("alert_rule_test") or []:
            name = at.get("alertname")
            exp = at.get("exp_alerts")
            if exp is None or exp == []:
                silent[name] = silent.get(name, 0) + 1
            else:
                ok = all(isinstance(e, dict) and e.get("exp_labels") and e.get("exp_annotations")
                         for e in exp)
                if not ok:
                    problems.append("%s: a firing test lacks exp_labels or exp_annotations" % name)
                firing[name] = firing.get(name, 0) + 1
        for pt in tg.get("promql_expr_test") or []:
            expr_tests.append(pt.get("expr", ""))

    for rec in RECORDING_RULES:
        if not any(re.search(r"(^|[^\w:])" + re.escape(rec) + r"($|[^\w:])", e) for e in expr_tests):
            problems.append("recording rule %s has no promql_expr_test" % rec)

    names = [a["alert"] for a in alerts]
    for n in sorted(set(x for x in names if names.count(x) > 1)):
        problems.append("alert %s defined more than once" % n)
    for a in alerts:
        n = a["alert"]
        if not re.fullmatch(r"Hostiso[A-Z][A-Za-z0-9]*", n):
            problems.append("%s: name is not CamelCase with prefix Hostiso" % n)
        sev = (a.get("labels") or {}).get("severity")
        if sev not in SEVERITIES:
            problems.append("%s: severity %r not in %s" % (n, sev, SEVERITIES))
        ann = a.get("annotations") or {}
        for k in ("summary", "description", "runbook_url"):
            if not (ann.get(k) or "").strip():
                problems.append("%s: missing annotation %s" % (n, k))
        if "{{" in (ann.get("summary") or ""):
            problems.append("%s: summary must be static text" % n)
        # absent() has no instance to name; every other alert is about one host
        if "absent(" not in a.get("expr", "") and "$labels.instance" not in (ann.get("description") or ""):
            problems.append("%s: description does not mention $labels.instance" % n)
        if ann.get("runbook_url") != RUNBOOK_BASE + n.lower():
            problems.append("%s: runbook_url %r is not %s" % (n, ann.get("runbook_url"), RUNBOOK_BASE + n.lower()))
        if n not in headings or github_anchor(n) != n.lower():
            problems.append("%s: no runbook heading giving anchor #%s" % (n, n.lower()))
        rows = [[c.strip() for c in row.strip().strip("|").split("|")]
                for row in table_rows if re.search(r"\b%s\b" % n, row.split("|")[1] if "|" in row else "")]
        if len(rows) != 1:
            problems.append("%s: expected one row in the runbook summary table, found %d" % (n, len(rows)))
        else:
            if sev not in rows[0]:
                problems.append("%s: runbook table row does not state severity %s" % (n, sev))
            if a.get("for", "0s") not in rows[0]:
                problems.append("%s: runbook table row does not state for: %s" % (n, a.get("for")))
        if not firing.get(n):
            problems.append("%s: no test where it fires" % n)
        if not silent.get(n):
            problems.append("%s: no test where it must not fire (exp_alerts: [])" % n)
    for n in sorted(set(firing) | set(silent)):
        if n not in names:
            problems.append("test refers to unknown alert %s" % n)
    return alerts, records, problems


def main(argv):
    if len(argv) == 3 and argv[1] == "--list":
        # "alertname severity" per alert, for shell scripts
        with open(argv[2]) as f:
            rules = load_yaml(f.read())
        for g in rules.get("groups") or []:
            for r in g.get("rules") or []:
                if "alert" in r:
                    print(r["alert"], (r.get("labels") or {}).get("severity", ""))
        return 0
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        alerts, records, problems = lint(*argv[1:])
    except (OSError, YamlError) as e:
        print("lint: ERROR %s" % e, file=sys.stderr)
        return 2
    for p in problems:
        print("lint: %s" % p)
    print("lint: %d alerts, %d recording rules, %d problems" % (len(alerts), len(records), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
