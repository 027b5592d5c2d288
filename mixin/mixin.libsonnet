// hostiso_exporter monitoring mixin: alerts, recording rules and Grafana
// dashboards, all driven by $._config (config.libsonnet).
(import 'config.libsonnet') +
(import 'rules/rules.libsonnet') +
(import 'alerts/alerts.libsonnet') +
(import 'alerts/add-runbook-links.libsonnet') +
(import 'dashboards/dashboards.libsonnet')
