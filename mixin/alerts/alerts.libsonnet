// Alerting rules. Every expression selects the exporter's series with
// $._config.hostisoSelector (directly or through a recording rule); `for:`,
// severity and thresholds come from $._config, runbook_url is added by
// add-runbook-links.libsonnet.
local utils = import '../lib/utils.libsonnet';

{
  prometheusAlerts+:: {
    local c = $._config,
    local sel = c.hostisoSelector,
    local alert(name, expr, summary, description) = {
      alert: name,
      expr: expr,
      'for': c.forDuration[name],
      labels: { severity: c.severity[name] },
      annotations: { summary: summary, description: description },
    },
    local forWords(name) = utils.durationWords(c.forDuration[name]),
    // "the last day", "the last 6 hours": a window in words without a leading "1 ".
    local windowWords(d) =
      local w = utils.durationWords(d);
      if std.startsWith(w, '1 ') then std.substr(w, 2, std.length(w) - 2) else w,
    local violation(kind) = 'hostiso_violation_info{%s,kind="%s"} == 1' % [sel, kind],
    // Thread census results and interrupts are sampled: a subject seen in any
    // scrape of the window counts as still violating, so it does not flap;
    // one that stays away for the window resets `for:`.
    local sampledViolation(kind) =
      'max_over_time(hostiso_violation_info{%s,kind="%s"}[%s]) == 1'
      % [sel, kind, c.sampledViolationWindow],

    groups+: [
      {
        name: 'hostiso-exporter',
        rules: [
          alert(
            'HostisoExporterDown',
            'up{%s} == 0' % sel,
            'hostiso_exporter cannot be scraped; CPU isolation of the host is unmonitored.',
            'Prometheus has failed to scrape hostiso_exporter on {{ $labels.instance }} for %s. '
            % forWords('HostisoExporterDown')
            + 'Pinning and isolation violations on this compute host would go unnoticed.',
          ),
          alert(
            'HostisoExporterAbsent',
            'absent(up{%s})' % sel,
            'No hostiso_exporter target is known to Prometheus.',
            'Prometheus has had no target matching {%s} for %s: service discovery or the '
            % [sel, forWords('HostisoExporterAbsent')]
            + "scrape configuration is broken, and no compute host's CPU isolation is monitored.",
          ),
          // `sched` needs CAP_BPF + CAP_PERFMON, which the default unit and
          // container do not grant: its 0 is the expected state there.
          // HostisoSchedCollectorLost covers a sched that used to work.
          alert(
            'HostisoCollectorFailing',
            'hostiso_collector_success{%s,collector!="sched"} == 0' % sel,
            'A hostiso_exporter collector keeps failing.',
            'The {{ $labels.collector }} collector of hostiso_exporter on {{ $labels.instance }} '
            + 'has failed every scrape for %s; its metrics are missing or stale.'
              % forWords('HostisoCollectorFailing'),
          ),
          alert(
            'HostisoSchedCollectorLost',
            |||
              hostiso_collector_success{%(sel)s,collector="sched"} == 0
              and
              max_over_time(hostiso_collector_success{%(sel)s,collector="sched"}[%(w)s]) == 1
            ||| % { sel: sel, w: c.schedLostWindow },
            'The sched collector stopped working on a host where it worked.',
            'The sched (eBPF) collector of hostiso_exporter on {{ $labels.instance }} has failed '
            + 'every scrape for %s after succeeding within the last %s: '
              % [
                forWords('HostisoSchedCollectorLost'),
                windowWords(c.schedLostWindow),
              ]
            + 'exact scheduler attribution and HostisoDomainWaitOnHostHigh are blind.',
          ),
          alert(
            'HostisoLibvirtDown',
            'hostiso_libvirt_up{%s} == 0' % sel,
            'hostiso_exporter cannot refresh guest data from libvirt.',
            'hostiso_exporter on {{ $labels.instance }} has not been able to talk to libvirt '
            + 'for %s; guest pinning, vCPU delay and capacity metrics are missing or stale.'
              % forWords('HostisoLibvirtDown'),
          ),
        ],
      },
      {
        name: 'hostiso-contention',
        rules: [
          alert(
            'HostisoHostStealHigh',
            'instance:hostiso_cpu_steal:ratio_rate5m{%s} > %g' % [sel, c.hostStealThreshold],
            'The compute host loses more than %s of its CPU time to steal.'
            % utils.percent(c.hostStealThreshold),
            '{{ $value | humanizePercentage }} of all CPU time of {{ $labels.instance }} was '
            + 'stolen by the hypervisor underneath it over the last 5 minutes (threshold %s). '
              % utils.percent(c.hostStealThreshold)
            + 'Every guest on this host runs slower.',
          ),
          alert(
            'HostisoCpuStealHigh',
            'instance_cpu:hostiso_cpu_steal:ratio_rate5m{%s} > %g' % [sel, c.cpuStealThreshold],
            'One CPU of the compute host loses more than %s of its time to steal.'
            % utils.percent(c.cpuStealThreshold),
            'CPU {{ $labels.cpu }} of {{ $labels.instance }} had {{ $value | humanizePercentage }} '
            + 'of its time stolen over the last 5 minutes (threshold %s).'
              % utils.percent(c.cpuStealThreshold),
          ),
          alert(
            'HostisoVcpuDelayHigh',
            'instance_domain:hostiso_vcpu_delay:ratio_rate5m{%s} > %g'
            % [sel, c.vcpuDelayThreshold],
            "A guest's vCPU waits more than %s of the time for a physical CPU."
            % utils.percent(c.vcpuDelayThreshold),
            'The busiest-waiting vCPU of domain {{ $labels.domain }} on {{ $labels.instance }} '
            + 'spent {{ $value | humanizePercentage }} of the last 5 minutes runnable but not '
            + 'running (threshold %s). The guest sees this as steal time.'
              % utils.percent(c.vcpuDelayThreshold),
          ),
        ],
      },
      {
        name: 'hostiso-isolation',
        rules: [
          alert(
            'HostisoVcpuOnHostCpu',
            violation('vcpu_on_host_cpu'),
            'A guest vCPU may run on CPUs reserved for the host.',
            '{{ $labels.subject }} on {{ $labels.instance }} has host-role CPUs '
            + '{{ $labels.cpus }} in its affinity: the guest competes with host services '
            + '(nova, OVS, libvirt) for those cores.',
          ),
          alert(
            'HostisoEmulatorOnHostCpu',
            violation('emulator_on_host_cpu'),
            "A guest's emulator or I/O thread may run on CPUs reserved for the host.",
            '{{ $labels.subject }} on {{ $labels.instance }} has host-role CPUs '
            + '{{ $labels.cpus }} in its affinity.',
          ),
          alert(
            'HostisoDedicatedCpuShared',
            violation('dedicated_cpu_shared'),
            'A dedicated guest CPU is shared between vCPUs.',
            'Dedicated CPUs {{ $labels.cpus }} on {{ $labels.instance }} are in the affinity '
            + 'of more than one vCPU or of a floating vCPU ({{ $labels.subject }}); guests '
            + 'that paid for dedicated cores are contending.',
          ),
          alert(
            'HostisoHostTaskOnGuestCpu',
            sampledViolation('host_task_on_guest_cpu'),
            'A host task runs on CPUs reserved for guests.',
            '{{ $labels.subject }} on {{ $labels.instance }} ran on guest-role CPUs '
            + '{{ $labels.cpus }}, taking time from the guests pinned there.',
          ),
          alert(
            'HostisoIrqOnGuestCpu',
            sampledViolation('irq_on_guest_cpu'),
            'A device interrupt is served on CPUs reserved for guests.',
            '{{ $labels.subject }} on {{ $labels.instance }} fired on guest-role CPUs '
            + '{{ $labels.cpus }}; each interrupt preempts the vCPU running there.',
          ),
          alert(
            'HostisoIsolcpusMismatch',
            violation('isolcpus_mismatch'),
            "Kernel CPU isolation does not match Nova's CPU sets.",
            'On {{ $labels.instance }}, kernel isolation (isolcpus) and the Nova CPU sets '
            + 'disagree on CPUs {{ $labels.cpus }} ({{ $labels.subject }}): either host or '
            + 'shared CPUs are isolated and lose load balancing, or no dedicated CPU is isolated.',
          ),
          // The host-role or shared-role sibling is configuration (steady);
          // a sibling's host intrusion comes from the census (sampled).
          alert(
            'HostisoSmtSiblingShared',
            sampledViolation('smt_sibling_shared'),
            'A dedicated guest CPU shares its physical core with host work or another guest.',
            '{{ $labels.subject }} on {{ $labels.instance }}: dedicated CPUs {{ $labels.cpus }} '
            + 'share a physical core (SMT siblings) with a host or shared CPU, another '
            + "guest's vCPU or host tasks; the guest pinned there competes for the core.",
          ),
          alert(
            'HostisoNumaMisplacement',
            violation('numa_misplacement'),
            "A guest's vCPUs run on NUMA nodes other than its memory's.",
            '{{ $labels.subject }} on {{ $labels.instance }} has pinned vCPUs on CPUs '
            + '{{ $labels.cpus }}, outside the NUMA nodes its memory is bound to (or spread '
            + 'over several nodes while its topology declares one): memory accesses cross '
            + 'the interconnect.',
          ),
          alert(
            'HostisoHostSliceOnGuestCpu',
            violation('host_slice_on_guest_cpu'),
            "A host cgroup slice's cpuset covers CPUs reserved for guests.",
            'The cpuset of {{ $labels.subject }} on {{ $labels.instance }} includes guest-role '
            + 'CPUs {{ $labels.cpus }}: every host service started in it may run on guest cores.',
          ),
          alert(
            'HostisoMachineSliceOnHostCpu',
            violation('machine_slice_on_host_cpu'),
            "libvirt's machine slice cpuset covers CPUs reserved for the host.",
            'The cpuset of {{ $labels.subject }} on {{ $labels.instance }} includes host-role '
            + 'CPUs {{ $labels.cpus }}: a guest thread that is not pinned (floating vCPU, '
            + 'emulator or I/O thread) may run on host cores.',
          ),
        ],
      },
      {
        name: 'hostiso-sched',
        rules: [
          // Needs the optional `sched` collector (eBPF); without it the
          // series are absent and the alert stays silent.
          alert(
            'HostisoDomainWaitOnHostHigh',
            |||
              sum by (%(by)s, domain) (
                rate(hostiso_domain_wait_attributed_seconds_total{%(sel)s,holder="host"}[%(w)s])
              ) > %(t)g
            ||| % {
              by: utils.hostLabels(c),
              sel: sel,
              w: c.rateInterval,
              t: c.domainHostWaitThreshold,
            },
            "Host tasks keep a guest's vCPUs waiting for their cores.",
            'The vCPUs of domain {{ $labels.domain }} on {{ $labels.instance }} waited '
            + '{{ $value | printf "%%.3f" }} s per second over the last %s while a host task held '
              % utils.durationWords(c.rateInterval)
            + 'their CPU (threshold %g s/s, for %s).'
              % [c.domainHostWaitThreshold, forWords('HostisoDomainWaitOnHostHigh')],
          ),
          alert(
            'HostisoSchedMapsFull',
            'increase(hostiso_sched_dropped_total{%s}[%s]) > 0' % [sel, c.schedDroppedWindow],
            "The sched collector's kernel maps are full; some attribution is lost.",
            'The sched collector of hostiso_exporter on {{ $labels.instance }} dropped '
            + '{{ $value | printf "%%.0f" }} entries at its map caps over the last %s: '
              % windowWords(c.schedDroppedWindow)
            + 'threads or domains beyond the caps are counted as host or other.',
          ),
        ],
      },
      {
        name: 'hostiso-capacity',
        rules: [
          alert(
            'HostisoCpuOvercommit',
            'instance_policy:hostiso_vcpus_allocated:ratio{%s} > %g'
            % [sel, c.cpuOvercommitThreshold],
            "More vCPUs are running than the host's vCPU capacity allows.",
            '{{ $labels.instance }} runs {{ $value | humanizePercentage }} of its '
            + '{{ $labels.policy }} vCPU capacity (CPUs of that set times '
            + 'cpu_allocation_ratio for shared).',
          ),
          alert(
            'HostisoRamOvercommit',
            'instance:hostiso_memory_guest_allocated:ratio{%s} > %g'
            % [sel, c.ramOvercommitThreshold],
            "Guests have more memory allocated than the host's guest memory capacity.",
            'Running guests on {{ $labels.instance }} are allocated '
            + '{{ $value | humanizePercentage }} of the guest memory capacity '
            + '((MemTotal - reserved_host_memory_mb) x ram_allocation_ratio).',
          ),
          alert(
            'HostisoMemoryReserveBreach',
            'hostiso_memory_reserve_headroom_bytes{%s} < 0' % sel,
            'Host processes use more memory than reserved_host_memory_mb.',
            'Memory reserve headroom on {{ $labels.instance }} is {{ $value | humanize1024 }}B: '
            + 'host processes use more than reserved_host_memory_mb and eat memory that Nova '
            + 'promised to guests.',
          ),
          alert(
            'HostisoNumaHugepagesReserveBreach',
            'hostiso_numa_hugepages_reserve_headroom_bytes{%s} < 0' % sel,
            'Host processes use more huge pages on a NUMA node than reserved_huge_pages.',
            'Huge page reserve headroom of NUMA node {{ $labels.node }} on {{ $labels.instance }} '
            + 'is {{ $value | humanize1024 }}B: the host uses more huge pages there than '
            + "nova.conf's reserved_huge_pages and eats pages Nova promised to guests.",
          ),
          alert(
            'HostisoMemoryHeadroomShrinking',
            |||
              predict_linear(hostiso_memory_reserve_headroom_bytes{%(sel)s}[%(w)s], %(h)s) < 0
              and
              hostiso_memory_reserve_headroom_bytes{%(sel)s} > 0
            ||| % {
              sel: sel,
              w: c.memoryTrendWindow,
              h: utils.durationSeconds(c.memoryTrendHorizon),
            },
            'Host memory use is growing towards the reservation.',
            'At the rate of the last %s, host processes on {{ $labels.instance }} will use up '
            % std.strReplace(utils.durationWords(c.memoryTrendWindow), '1 ', '')
            + 'the memory reservation within %s (possible leak in a host service).'
              % utils.durationWords(c.memoryTrendHorizon),
          ),
          alert(
            'HostisoDiskReserveBreach',
            'hostiso_disk_reserve_headroom_bytes{%s} < 0' % sel,
            'Free instance storage is below reserved_host_disk_mb.',
            'Disk reserve headroom on {{ $labels.instance }} is {{ $value | humanize1024 }}B: '
            + 'free instance storage is below reserved_host_disk_mb, and new or growing guest '
            + 'disks can fill it.',
          ),
          alert(
            'HostisoDiskHeadroomExhaustionPredicted',
            |||
              predict_linear(hostiso_disk_reserve_headroom_bytes{%(sel)s}[%(w)s], %(h)s) < 0
              and
              hostiso_disk_reserve_headroom_bytes{%(sel)s} > 0
            ||| % {
              sel: sel,
              w: c.diskTrendWindow,
              h: utils.durationSeconds(c.diskTrendHorizon),
            },
            'Instance storage will reach the disk reservation within %s.'
            % utils.durationWords(c.diskTrendHorizon),
            'At the rate of the last %s, free instance storage on {{ $labels.instance }} will '
            % utils.durationWords(c.diskTrendWindow)
            + 'fall below the disk reservation within %s.' % utils.durationWords(c.diskTrendHorizon),
          ),
          alert(
            'HostisoDiskLayout',
            violation('disk_layout'),
            'Instance storage shares a block device with the root filesystem.',
            'On {{ $labels.instance }}, {{ $labels.subject }} is on the same block device as the '
            + 'root filesystem: guest disk I/O competes with the host and a full disk takes the '
            + 'host down with it.',
          ),
        ],
      },
    ],
  },
}
