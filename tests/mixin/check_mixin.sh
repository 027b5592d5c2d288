#!/usr/bin/env bash
# Checks of the monitoring mixin (mixin/):
#   - the jsonnet is jsonnetfmt-clean and the committed renderings
#     (alerts/hostiso.rules.yml, dashboards/*.json) are up to date with it;
#     the dashboards' panels are jsonnet too (mixin/dashboards/, mixin/lib/);
#   - the shipped rules: every alert and recording rule uses the job selector,
#     every aggregation and join keeps the cluster label, every runbook_url is
#     the configured pattern (default: the runbook the package installs);
#   - clusters stay apart (tests/mixin/cluster_rules_test.yml), with the
#     default _config and with tests/mixin/other-config.libsonnet;
#   - the dashboards rendered with the other _config pass
#     tests/dashboards/check_dashboards.py and carry the other cluster label;
#     a renamed cluster variable leaves no $cluster behind.
# Exit 0 all pass, 1 a check failed, 77 a tool is missing (SKIP).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"

for tool in jsonnet jsonnetfmt promtool python3; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "SKIP: $tool not found (Debian packages jsonnet, prometheus, python3; scripts/install-deps.sh test)"
    exit 77
  fi
done
if ! python3 -c 'import yaml' 2>/dev/null; then
  echo "SKIP: python3-yaml not installed (scripts/install-deps.sh test)"
  exit 77
fi

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
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mapfile -t sources < <(find mixin tests/mixin -name '*.libsonnet' | sort)
run "jsonnetfmt --test (${#sources[@]} files)" jsonnetfmt --test "${sources[@]}"
run "committed renderings are up to date (python3 mixin/render.py --check)" \
  python3 mixin/render.py --check

# The shipped rules, with the default _config.
rules_use_config() {  # RULES SELECTOR CLUSTER_LABEL RUNBOOK_PATTERN
  python3 - "$@" <<'PY'
import re
import sys
import yaml
rules_path, selector, cluster, pattern = sys.argv[1:]
problems = []
rules = [r for g in yaml.safe_load(open(rules_path))["groups"] for r in g["rules"]]
for r in rules:
    name = r.get("alert") or r.get("record")
    if "{%s" % selector not in r["expr"]:
        problems.append("%s: expr does not select {%s}" % (name, selector))
    for clause in re.findall(r"\b(?:by|on)\s*\(([^)]*)\)", r["expr"]):
        if not clause.strip().startswith("%s, job, instance" % cluster):
            problems.append("%s: clause (%s) lacks %s, job, instance" % (name, clause, cluster))
    if "alert" in r:
        want = pattern % r["alert"].lower()
        got = r.get("annotations", {}).get("runbook_url")
        if got != want:
            problems.append("%s: runbook_url %r, want %r" % (name, got, want))
for p in problems:
    print(p)
sys.exit(1 if problems else 0)
PY
}
default_pattern=$(jsonnet -J mixin -e "(import 'mixin.libsonnet')._config.runbookURLPattern" |
  python3 -c 'import json, sys; print(json.load(sys.stdin))')
case $default_pattern in
  file:///usr/share/hostiso-exporter/*|/usr/share/hostiso-exporter/*) echo "PASS: default runbook URL is the installed runbook ($default_pattern)" ;;
  *) echo "FAIL: default runbook URL $default_pattern is not the runbook under /usr/share/hostiso-exporter"; failures=$((failures + 1)) ;;
esac
run "shipped rules use job=\"hostiso\", cluster and the runbook pattern" \
  rules_use_config alerts/hostiso.rules.yml 'job="hostiso"' cluster "$default_pattern"
# The check itself must be able to fail: the rules of main before the mixin
# (no selector, no cluster label) are rejected.
cat >"$tmp/unselected.yml" <<'YML'
groups:
  - name: x
    rules:
      - record: instance:hostiso_cpu_steal:ratio_rate5m
        expr: sum by (job, instance) (rate(hostiso_cpu_seconds_total[5m]))
YML
if rules_use_config "$tmp/unselected.yml" 'job="hostiso"' cluster "$default_pattern" >/dev/null; then
  echo "FAIL: the rules check accepts a rule without selector or cluster label"
  failures=$((failures + 1))
else
  echo "PASS: the rules check rejects a rule without selector or cluster label"
fi
run "clusters stay apart (default _config)" promtool test rules tests/mixin/cluster_rules_test.yml

# The other _config.
other="$tmp/other"
python3 mixin/render.py --config tests/mixin/other-config.libsonnet --out "$other" >/dev/null
other_pattern=$(jsonnet -J mixin -e "((import 'mixin.libsonnet') + (import '$root/tests/mixin/other-config.libsonnet'))._config.runbookURLPattern" |
  python3 -c 'import json, sys; print(json.load(sys.stdin))')
run "other rules use job=\"compute-hostiso\", region and the other runbook pattern" \
  rules_use_config "$other/alerts/hostiso.rules.yml" 'job="compute-hostiso"' region "$other_pattern"
sed -e 's/cluster="/region="/g; s/^\( *\)cluster: /\1region: /' tests/mixin/cluster_rules_test.yml >"$tmp/cluster_test.yml"
python3 tests/mixin/rewrite_rules_test.py "$tmp/cluster_test.yml" "$other/alerts/hostiso.rules.yml" \
  hostiso compute-hostiso "${default_pattern%\%s}" "${other_pattern%\%s}" "$tmp/cluster_test_other.yml"
run "clusters stay apart (other _config, label region)" promtool test rules "$tmp/cluster_test_other.yml"
cp -r dashboards/provisioning "$other/dashboards/"
run "check_dashboards.py on the dashboards of the other _config" \
  python3 tests/dashboards/check_dashboards.py --dashboards "$other/dashboards" \
  --rules "$other/alerts/hostiso.rules.yml" --quiet
if grep -l 'cluster=~' "$other"/dashboards/*.json >/dev/null ||
   ! grep -q 'region=~\\"\$cluster\\"' "$other/dashboards/hostiso-fleet-overview.json" ||
   ! grep -q 'job=\\"compute-hostiso\\"' "$other/dashboards/hostiso-fleet-overview.json"; then
  echo "FAIL: dashboards of the other _config still filter on cluster, or lack region/job"
  failures=$((failures + 1))
else
  echo "PASS: dashboards of the other _config filter on region=~\"\$cluster\" and job=\"compute-hostiso\""
fi
renamed=$(jsonnet -S -J mixin -e "std.manifestJsonEx(((import 'mixin.libsonnet') + { _config+:: { grafana+: { clusterVariable: 'dc' } } }).grafanaDashboards, ' ')")
if grep -q '\$cluster\|{cluster:' <<<"$renamed" || ! grep -q '=~\\"\$dc\\"' <<<"$renamed"; then
  echo "FAIL: a renamed cluster variable leaves \$cluster behind"
  failures=$((failures + 1))
else
  echo "PASS: a renamed cluster variable (dc) replaces every \$cluster"
fi

if [ "$failures" -ne 0 ]; then
  echo "check_mixin: $failures check(s) failed"
  exit 1
fi
echo "check_mixin: all checks passed"
