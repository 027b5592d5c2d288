#!/usr/bin/env bash
# Static checks of the alerting files:
#   promtool check rules / test rules / check config, amtool check-config,
#   Alertmanager routing of every alert by severity, and a lint that every alert
#   has severity/summary/description/runbook_url, a runbook section and table
#   row, and a firing and a non-firing unit test (tests/alerts/lint_alerts.py).
# The rules are rendered from the mixin (mixin/): the same promtool checks and
# the unit tests also run on a rendering with a non-default _config
# (tests/mixin/other-config.libsonnet: other job, cluster label, runbook URL).
# Exit 0 all pass, 1 a check failed, 77 promtool, amtool or jsonnet missing (SKIP).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"

for tool in promtool amtool python3 jsonnet; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "SKIP: $tool not found (Debian packages prometheus, prometheus-alertmanager, python3, jsonnet; scripts/install-deps.sh test)"
    exit 77
  fi
done

rules=alerts/hostiso.rules.yml
tests=tests/alerts/hostiso.rules_test.yml
fleet=alerts/prometheus-fleet.example.yml
am=alerts/alertmanager.example.yml
runbook=alerts/runbook.md
lint=tests/alerts/lint_alerts.py

failures=0
run() {
  local name=$1; shift
  local out
  if out=$("$@" 2>&1); then
    echo "PASS: $name"
  else
    echo "FAIL: $name"
    printf '%s\n' "$out" | sed 's/^/    /'
    failures=$((failures + 1))
  fi
}

run "promtool check rules $rules" promtool check rules "$rules"
run "promtool test rules $tests" promtool test rules "$tests"
# rule_files in the fleet example are relative to the config's directory; check
# a copy in a scratch dir next to a copy of the rules so the check does not
# depend on the working directory either way.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$fleet" "$rules" "$tmp/"
run "promtool check config $fleet" promtool check config "$tmp/$(basename "$fleet")"
if ! grep -Eq '^[[:space:]]+port:[[:space:]]*9933[[:space:]]*$' "$fleet" ||
   ! grep -Eq 'role:[[:space:]]*hypervisor' "$fleet"; then
  echo "FAIL: $fleet must use openstack_sd_configs role hypervisor with port: 9933"
  failures=$((failures + 1))
fi
# Joins between exporters of one host (hostiso and node_exporter) need the same
# `instance`: every job of the fleet example must relabel it the same way.
same_instance_relabeling() {
  python3 - "$1" <<'PY'
import sys
import yaml
jobs = yaml.safe_load(open(sys.argv[1]))["scrape_configs"]
names = {j["job_name"] for j in jobs}
if not {"hostiso", "node"} <= names:
    sys.exit("want jobs hostiso and node, have %s" % sorted(names))
def rule(job):
    rs = [r for r in job.get("relabel_configs", []) if r.get("target_label") == "instance"]
    return yaml.safe_dump(rs, sort_keys=True)
first = rule(jobs[0])
for j in jobs:
    if rule(j) != first:
        sys.exit("job %s sets instance differently from job %s" % (j["job_name"], jobs[0]["job_name"]))
PY
}
run "$fleet: every job sets instance the same way" same_instance_relabeling "$fleet"
# A copy where the node job lost its relabeling must be rejected.
python3 -c 'import sys, yaml; d = yaml.safe_load(open(sys.argv[1])); d["scrape_configs"][1]["relabel_configs"] = []; yaml.safe_dump(d, open(sys.argv[2], "w"))' "$fleet" "$tmp/one-job-only.yml"
if same_instance_relabeling "$tmp/one-job-only.yml" >/dev/null 2>&1; then
  echo "FAIL: the instance-relabeling check accepts a job without it"
  failures=$((failures + 1))
else
  echo "PASS: the instance-relabeling check rejects a job without it"
fi
run "amtool check-config $am" amtool check-config "$am"

# Routing: critical -> pager, warning -> ticket, info -> null.
route_failures=0
alerts=$(python3 "$lint" --list "$rules")
if [ -z "$alerts" ]; then
  echo "FAIL: no alerts listed from $rules"
  failures=$((failures + 1))
fi
while read -r name severity; do
  case $severity in
    critical) want=pager ;;
    warning) want=ticket ;;
    info) want=null ;;
    *) want="(no receiver for severity '$severity')" ;;
  esac
  got=$(amtool config routes test --config.file="$am" "alertname=$name" "severity=$severity" 2>/dev/null || true)
  if [ "$got" != "$want" ]; then
    echo "FAIL: $name (severity $severity) routes to '$got', want '$want'"
    route_failures=$((route_failures + 1))
  fi
done <<<"$alerts"
if [ "$route_failures" -eq 0 ] && [ -n "$alerts" ]; then
  echo "PASS: alertmanager routing of $(wc -l <<<"$alerts") alerts by severity"
else
  failures=$((failures + 1))
fi

# Non-default _config: render, then check and unit-test the result with the
# test file rewritten for the other job name and runbook URL.
other="$tmp/other"
run "mixin renders with tests/mixin/other-config.libsonnet" \
  python3 mixin/render.py --config tests/mixin/other-config.libsonnet --out "$other"
pattern() {  # runbookURLPattern of a rendering, without the %s
  jsonnet -J mixin -e "((import 'mixin.libsonnet') + $1)._config.runbookURLPattern" |
    python3 -c 'import json, sys; print(json.load(sys.stdin).replace("%s", ""))'
}
default_rb=$(pattern '{}')
other_rb=$(pattern "(import '$root/tests/mixin/other-config.libsonnet')")
run "promtool check rules (non-default _config)" promtool check rules "$other/$rules"
run "rewrite the unit tests for the non-default _config" \
  python3 tests/mixin/rewrite_rules_test.py "$tests" "$other/$rules" hostiso compute-hostiso \
  "$default_rb" "$other_rb" "$tmp/other_test.yml"
run "promtool test rules (non-default _config)" promtool test rules "$tmp/other_test.yml"
if grep -v '^#' "$other/$rules" | grep 'job="hostiso"' >/dev/null || ! grep -q "$other_rb" "$other/$rules" ||
   ! grep -q 'by (region, job, instance)' "$other/$rules"; then
  echo "FAIL: the non-default rendering still has job=\"hostiso\", lacks the runbook URL or the region label"
  failures=$((failures + 1))
else
  echo "PASS: the non-default rendering uses its job, cluster label and runbook URL"
fi

# tests/alerts/lint_alerts.py checks runbook_url against its own RUNBOOK_BASE:
# lint a rendering whose runbookURLPattern is that base (the shipped default is
# checked by tests/mixin/check_mixin.sh).
lint_base=$(python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import lint_alerts; print(lint_alerts.RUNBOOK_BASE)' "$here")
printf "{ _config+:: { runbookURLPattern: '%s%%s' } }\n" "$lint_base" >"$tmp/lint-config.libsonnet"
run "mixin renders with the lint's runbook base" \
  python3 mixin/render.py --config "$tmp/lint-config.libsonnet" --out "$tmp/lint"
python3 tests/mixin/rewrite_rules_test.py "$tests" "$tmp/lint/$rules" hostiso hostiso \
  "$default_rb" "$lint_base" "$tmp/lint_test.yml"
run "lint (annotations, runbook, tests)" python3 "$lint" "$tmp/lint/$rules" "$runbook" "$tmp/lint_test.yml"

# The lint must be able to fail: drop one runbook heading and one non-firing test.
sed '/^## HostisoDiskLayout$/d' "$runbook" >"$tmp/runbook.md"
if python3 "$lint" "$tmp/lint/$rules" "$tmp/runbook.md" "$tmp/lint_test.yml" >"$tmp/lint.out" 2>&1 ||
   ! grep -q 'HostisoDiskLayout: no runbook heading' "$tmp/lint.out"; then
  echo "FAIL: lint did not notice a missing runbook section"
  failures=$((failures + 1))
else
  echo "PASS: lint detects a missing runbook section"
fi

if [ "$failures" -ne 0 ]; then
  echo "check_alerts: $failures check(s) failed"
  exit 1
fi
echo "check_alerts: all checks passed"
