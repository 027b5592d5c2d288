// Grafana dashboards. Their panels are built by dashboards/build_dashboards.py
// into generated/ for the default configuration (cluster label `cluster`,
// dashboard variable $cluster); this file applies $._config to them:
// the cluster label in every selector, `by` and `on` clause, and the job
// selector in the `job` variable's query.
local templates = {
  'hostiso-fleet-overview.json': import 'generated/hostiso-fleet-overview.json',
  'hostiso-host-detail.json': import 'generated/hostiso-host-detail.json',
  'hostiso-capacity-planning.json': import 'generated/hostiso-capacity-planning.json',
};

{
  grafanaDashboards+:: {
    local c = $._config,
    local variable = c.grafana.clusterVariable,
    local replacements = [
      [
        'label_values(hostiso_build_info{cluster=~"$cluster"}, job)',
        'label_values(hostiso_build_info{%s,%s=~"$%s"}, job)'
        % [c.hostisoSelector, c.clusterLabel, variable],
      ],
      [
        'label_values(hostiso_build_info, cluster)',
        'label_values(hostiso_build_info{%s}, %s)' % [c.hostisoSelector, c.clusterLabel],
      ],
      ['cluster=~"$cluster"', '%s=~"$%s"' % [c.clusterLabel, variable]],
      ['(cluster, job, instance', '(%s, job, instance' % c.clusterLabel],
      ['${cluster:queryparam}', '${%s:queryparam}' % variable],
    ],
    local substitute(s) = std.foldl(function(acc, r) std.strReplace(acc, r[0], r[1]),
                                    replacements,
                                    s),
    // Walks the dashboard: strings get the substitutions; the variable named
    // `cluster` and table columns named `cluster` are renamed.
    local apply(x) =
      if std.isString(x) then substitute(x)
      else if std.isArray(x) then std.map(apply, x)
      else if std.isObject(x) then {
        [if k == 'cluster' then c.clusterLabel else k]: apply(x[k])
        for k in std.objectFields(x)
      } + (if std.objectHas(x, 'name') && x.name == 'cluster' && std.objectHas(x, 'type')
           then { name: variable } else {})
      else x,
    [name]: apply(templates[name])
    for name in std.objectFields(templates)
  },
}
