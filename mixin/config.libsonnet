// Everything an operator may want to change; alerts, recording rules and
// dashboards read only $._config. Override in your own jsonnet:
//   (import 'hostiso-mixin/mixin.libsonnet') + { _config+:: { hostisoSelector: 'job="compute"' } }
{
  _config+:: {
    // Label matchers selecting hostiso_exporter's series, without braces. Every
    // alert and every recording rule uses it.
    hostisoSelector: 'job="hostiso"',

    // Label that tells clusters (or regions) apart when one Prometheus, Thanos
    // or Mimir sees several OpenStack deployments, usually an external label.
    // Recording rules aggregate by it and joins match on it, so two clusters
    // with equal host names never mix; series without it work unchanged.
    clusterLabel: 'cluster',

    // runbook_url of every alert: %s is the lowercase alert name, which is the
    // anchor of its section in alerts/runbook.md. The default is the runbook
    // the Debian package installs; publish the runbook on your own wiki or web
    // server and point this at it (e.g. 'https://wiki.example/hostiso/runbook.html#%s').
    runbookURLPattern: 'file:///usr/share/hostiso-exporter/alerts/runbook.md#%s',

    // Rate window of the recording rules (the rule names say 5m).
    rateInterval: '5m',

    // Thresholds: ratios are 0..1.
    hostStealThreshold: 0.10,
    cpuStealThreshold: 0.25,
    vcpuDelayThreshold: 0.10,
    cpuOvercommitThreshold: 1,
    ramOvercommitThreshold: 1,
    // Sampled violations (thread census, interrupts) count as present while
    // seen at least once in this window, so they do not flap.
    sampledViolationWindow: '5m',
    // predict_linear(): look back over the window, alert if the headroom
    // reaches 0 within the horizon.
    memoryTrendWindow: '1h',
    memoryTrendHorizon: '4h',
    diskTrendWindow: '6h',
    diskTrendHorizon: '24h',
    // Collector `sched`: vCPU wait of one domain (summed over its vCPUs)
    // attributed to host tasks holding the vCPU's CPU, in seconds per second.
    domainHostWaitThreshold: 0.05,
    // HostisoSchedCollectorLost: sched fails now but succeeded within this
    // window (lost privileges, BTF gone after a kernel upgrade). A host that
    // never granted the capabilities reports sched 0 forever and is not paged.
    schedLostWindow: '1d',
    // HostisoSchedMapsFull: window of increase(hostiso_sched_dropped_total).
    schedDroppedWindow: '1h',

    // `for:` durations, by alert.
    forDuration: {
      HostisoExporterDown: '5m',
      HostisoExporterAbsent: '15m',
      HostisoCollectorFailing: '15m',
      HostisoSchedCollectorLost: '15m',
      HostisoLibvirtDown: '10m',
      HostisoHostStealHigh: '15m',
      HostisoCpuStealHigh: '15m',
      HostisoVcpuDelayHigh: '15m',
      HostisoVcpuOnHostCpu: '5m',
      HostisoEmulatorOnHostCpu: '5m',
      HostisoDedicatedCpuShared: '5m',
      HostisoHostTaskOnGuestCpu: '10m',
      HostisoIrqOnGuestCpu: '10m',
      HostisoIsolcpusMismatch: '10m',
      HostisoCpuOvercommit: '15m',
      HostisoRamOvercommit: '15m',
      HostisoMemoryReserveBreach: '10m',
      HostisoNumaHugepagesReserveBreach: '15m',
      HostisoMemoryHeadroomShrinking: '30m',
      HostisoDiskReserveBreach: '10m',
      HostisoDiskHeadroomExhaustionPredicted: '1h',
      HostisoDiskLayout: '15m',
      HostisoSmtSiblingShared: '10m',
      HostisoNumaMisplacement: '15m',
      HostisoHostSliceOnGuestCpu: '10m',
      HostisoMachineSliceOnHostCpu: '30m',
      HostisoDomainWaitOnHostHigh: '15m',
      HostisoSchedMapsFull: '5m',
    },

    // Severity of each alert: critical pages, warning opens a ticket, info is
    // for dashboards (alerts/alertmanager.example.yml routes them so).
    severity: {
      HostisoExporterDown: 'critical',
      HostisoExporterAbsent: 'critical',
      HostisoCollectorFailing: 'warning',
      HostisoSchedCollectorLost: 'warning',
      HostisoLibvirtDown: 'warning',
      HostisoHostStealHigh: 'warning',
      HostisoCpuStealHigh: 'info',
      HostisoVcpuDelayHigh: 'warning',
      HostisoVcpuOnHostCpu: 'critical',
      HostisoEmulatorOnHostCpu: 'critical',
      HostisoDedicatedCpuShared: 'critical',
      HostisoHostTaskOnGuestCpu: 'warning',
      HostisoIrqOnGuestCpu: 'warning',
      HostisoIsolcpusMismatch: 'warning',
      HostisoCpuOvercommit: 'warning',
      HostisoRamOvercommit: 'warning',
      HostisoMemoryReserveBreach: 'warning',
      HostisoNumaHugepagesReserveBreach: 'warning',
      HostisoMemoryHeadroomShrinking: 'warning',
      HostisoDiskReserveBreach: 'warning',
      HostisoDiskHeadroomExhaustionPredicted: 'warning',
      HostisoDiskLayout: 'info',
      HostisoSmtSiblingShared: 'warning',
      HostisoNumaMisplacement: 'warning',
      HostisoHostSliceOnGuestCpu: 'warning',
      // Stock libvirt hosts often leave machine.slice on every CPU and confine
      // the guests by per-thread pinning; informational until that is fixed.
      HostisoMachineSliceOnHostCpu: 'info',
      HostisoDomainWaitOnHostHigh: 'warning',
      HostisoSchedMapsFull: 'info',
    },

    // Grafana dashboards.
    grafana: {
      // Name of the dashboard variable that selects values of clusterLabel.
      clusterVariable: 'cluster',
    },
  },
}
