// Grafana dashboards, written in jsonnet (panels: dashboards/*.libsonnet,
// builders: lib/grafana.libsonnet); every selector, `by` and `on` clause and
// variable query follows $._config (cluster label, job selector, name of the
// cluster variable).
{
  grafanaDashboards+:: {
    'hostiso-fleet-overview.json': (import 'fleet-overview.libsonnet')($._config),
    'hostiso-host-detail.json': (import 'host-detail.libsonnet')($._config),
    'hostiso-capacity-planning.json': (import 'capacity-planning.libsonnet')($._config),
  },
}
