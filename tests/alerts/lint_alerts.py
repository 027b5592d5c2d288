#!/usr/bin/env python3
"""Consistency lint for the hostiso alerting files.

Usage: lint_alerts.py RULES_YML RUNBOOK_MD TEST_YML
       lint_alerts.py --list RULES_YML     (prints "alertname severity" lines)

Checks, for every alerting rule in RULES_YML:
  - labels.severity is one of critical, warning, info;
  - annotations summary, description and runbook_url are present and non-empty,
    summary is static text (no template), description is templated with
    $labels.instance (except for absent() alerts), runbook_url is the project URL +
    '#' + lowercase name;
  - RUNBOOK_MD has a heading that is exactly the alert name (GitHub anchor =
    lowercase name) and the alert appears in the runbook's summary table;
  - TEST_YML has at least one alert_rule_test where the alert fires (non-empty
    exp_alerts, each with exp_labels and exp_annotations) and one where it must
    not fire (empty exp_alerts).
And for the recording rules: the names are exactly the contract's list, and every
one is evaluated by at least one promql_expr_test.

YAML is read with python3-yaml's safe loader; a key given twice in one mapping
is an error (PyYAML alone would keep the last one).
Exit status: 0 clean, 1 findings, 2 usage or parse error.
"""
import re
import sys

import yaml  # Debian: python3-yaml

RUNBOOK_BASE = "https://github.com/hostiso/hostiso_exporter/blob/main/alerts/runbook.md#"
# The contract's recording rules, the one place they are written:
# tests/dashboards/check_dashboards.py reads the names from the rendered rules
# file, which this lint checks against this list.
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


class _UniqueKeyLoader(yaml.SafeLoader):
    """yaml.SafeLoader that rejects a mapping key given twice (PyYAML keeps the last one,
    promtool refuses the file)."""


def _construct_unique_mapping(loader, node, deep=False):
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, "duplicate key %r" % (key,),
                                                    key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
                                 _construct_unique_mapping)


def load_yaml(text):
    """python3-yaml's safe loader, with duplicate keys an error."""
    return yaml.load(text, Loader=_UniqueKeyLoader)


def github_anchor(heading):
    a = heading.strip().lower()
    a = re.sub(r"[^\w\- ]", "", a)
    return a.replace(" ", "-")


def split_rules(rules, problems):
    """(alerting rules, recording rule names) of a rule file."""
    alerts, records = [], []
    for g in rules.get("groups") or []:
        for r in g.get("rules") or []:
            if "alert" in r:
                alerts.append(r)
            elif "record" in r:
                records.append(r["record"])
            else:
                problems.append("rule without alert/record in group %s" % g.get("name"))
    return alerts, records


def runbook_headings(runbook):
    headings = set()
    for line in runbook.splitlines():
        m = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if m:
            headings.add(m.group(1))
    return headings


def runbook_summary_table(runbook):
    """The rows of the first markdown table in the runbook."""
    table_rows = []
    in_table = False
    for line in runbook.splitlines():
        if line.startswith("|"):
            in_table = True
            table_rows.append(line)
        elif in_table:
            break
    return table_rows


def unit_tests_by_alert(tests, problems):
    """({alert: firing tests}, {alert: non-firing tests}, [promql_expr_test expressions])."""
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
            expr_tests.append(str(pt.get("expr", "")))
    return firing, silent, expr_tests


def check_recording_rule_names(records, problems):
    if sorted(records) != sorted(RECORDING_RULES):
        problems.append("recording rules differ from the contract: extra %s, missing %s" % (
            sorted(set(records) - set(RECORDING_RULES)),
            sorted(set(RECORDING_RULES) - set(records))))


def check_recording_rules_tested(expr_tests, problems):
    """Each of the contract's recording rules is evaluated by a promql_expr_test."""
    for rec in RECORDING_RULES:
        used = r"(^|[^\w:])" + re.escape(rec) + r"($|[^\w:])"
        if not any(re.search(used, e) for e in expr_tests):
            problems.append("recording rule %s has no promql_expr_test" % rec)


def check_alert_rule(a, problems):
    """Name, severity and annotations of one alerting rule."""
    n = a["alert"]
    if not re.fullmatch(r"Hostiso[A-Z][A-Za-z0-9]*", n):
        problems.append("%s: name is not CamelCase with prefix Hostiso" % n)
    sev = (a.get("labels") or {}).get("severity")
    if sev not in SEVERITIES:
        problems.append("%s: severity %r not in %s" % (n, sev, SEVERITIES))
    ann = a.get("annotations") or {}
    for k in ("summary", "description", "runbook_url"):
        if not str(ann.get(k) or "").strip():
            problems.append("%s: missing annotation %s" % (n, k))
    if "{{" in str(ann.get("summary") or ""):
        problems.append("%s: summary must be static text" % n)
    # absent() has no instance to name; every other alert is about one host
    if "absent(" not in str(a.get("expr", "")) and \
            "$labels.instance" not in str(ann.get("description") or ""):
        problems.append("%s: description does not mention $labels.instance" % n)
    if ann.get("runbook_url") != RUNBOOK_BASE + n.lower():
        problems.append("%s: runbook_url %r is not %s"
                        % (n, ann.get("runbook_url"), RUNBOOK_BASE + n.lower()))


def check_alert_runbook(a, headings, table_rows, problems):
    """A runbook heading giving the anchor, and one summary-table row with severity and for."""
    n = a["alert"]
    sev = (a.get("labels") or {}).get("severity")
    if n not in headings or github_anchor(n) != n.lower():
        problems.append("%s: no runbook heading giving anchor #%s" % (n, n.lower()))
    rows = [[c.strip() for c in row.strip().strip("|").split("|")]
            for row in table_rows
            if re.search(r"\b%s\b" % n, row.split("|")[1] if "|" in row else "")]
    if len(rows) != 1:
        problems.append("%s: expected one row in the runbook summary table, found %d"
                        % (n, len(rows)))
    else:
        if sev not in rows[0]:
            problems.append("%s: runbook table row does not state severity %s" % (n, sev))
        if str(a.get("for", "0s")) not in rows[0]:
            problems.append("%s: runbook table row does not state for: %s" % (n, a.get("for")))


def lint(rules_path, runbook_path, test_path):
    problems = []
    with open(rules_path) as f:
        rules = load_yaml(f.read())
    with open(test_path) as f:
        tests = load_yaml(f.read())
    with open(runbook_path) as f:
        runbook = f.read()

    alerts, records = split_rules(rules, problems)
    check_recording_rule_names(records, problems)
    headings = runbook_headings(runbook)
    table_rows = runbook_summary_table(runbook)
    firing, silent, expr_tests = unit_tests_by_alert(tests, problems)
    check_recording_rules_tested(expr_tests, problems)

    names = [a["alert"] for a in alerts]
    for n in sorted(set(x for x in names if names.count(x) > 1)):
        problems.append("alert %s defined more than once" % n)
    for a in alerts:
        n = a["alert"]
        check_alert_rule(a, problems)
        check_alert_runbook(a, headings, table_rows, problems)
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
    except (OSError, yaml.YAMLError) as e:
        print("lint: ERROR %s" % e, file=sys.stderr)
        return 2
    for p in problems:
        print("lint: %s" % p)
    print("lint: %d alerts, %d recording rules, %d problems"
          % (len(alerts), len(records), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
