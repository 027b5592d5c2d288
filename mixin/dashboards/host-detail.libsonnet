// hostiso / Host detail: one compute host: who uses which core, vCPU delay
// and pinning, host intrusion on guest cores, violations, memory and disk
// headroom.
function(config)
  local g = (import '../lib/grafana.libsonnet')(config);
  local s = g.sel;
  local t = g.target;
  local th = g.thresholds;
  local by = g.hostLabels;
  // hostiso_cpu_role is 1 for the CPU's role; "== 1" keeps the join
  // one-to-one even if an exporter ever exposed 0-valued series for the
  // other roles.
  local roleJoin(counter) =
    'rate(%s[$__rate_interval]) * on (%s, cpu) group_left (role) (%s == 1)'
    % [counter, by, s('hostiso_cpu_role')];
  // max by (<host labels>, LABELS) (METRIC): one table column per target.
  local maxBy(labels, metric) = g.tableTarget('max by (%s, %s) (%s)' % [by, labels, s(metric)]);
  local hostColumns = ['Time', config.clusterLabel, 'job', 'instance'];

  local atAGlance = g.row('Host at a glance', [
    [g.stat('Exporter',
            'Prometheus can scrape the exporter on this host.',
            [t(s('up'))],
            'none',
            th([['red', null], ['green', 1]]),
            g.upMappings), 3, 4],
    [g.stat('Violations now',
            'Subjects in violation now, all kinds. Details below.',
            [t('sum(%s)' % s('hostiso_violating_subjects'))],
            'short',
            g.redFrom1), 3, 4],
    [g.stat('Isolation configured',
            'Whether nova.conf (or the exporter flag) defines a guest CPU set. '
            + 'NO: every CPU is shared by host and guests.',
            [t(s('hostiso_isolation_configured'))],
            'none',
            th([['yellow', null], ['green', 1]]),
            g.boolMappings('NO', 'YES', 'yellow')), 3, 4],
    [g.stat('Steal',
            "Share of this host's CPU time stolen (5m).",
            [t(s('instance:hostiso_cpu_steal:ratio_rate5m'))],
            'percentunit',
            th([['green', null], ['yellow', 0.02], ['red', 0.1]]),
            decimals=2), 3, 4],
    [g.stat('Host tasks on guest CPUs',
            'Host threads (not guests, not per-CPU kernel threads) allowed to run on a '
            + 'guest CPU: exposure that becomes a violation once they run there.',
            [t(s('hostiso_host_tasks_on_guest_cpus'))],
            'short',
            th([['green', null], ['yellow', 1]])), 3, 4],
    [g.stat('Memory reserve headroom',
            'reserved_host_memory_mb minus what the host uses. Negative: the host is '
            + 'eating memory promised to guests.',
            [t(s('hostiso_memory_reserve_headroom_bytes'))],
            'bytes',
            g.redBelow0), 3, 4],
    [g.stat('Disk reserve headroom',
            'Free instance storage minus reserved_host_disk_mb. Negative: guests can '
            + 'fill the disk the host needs.',
            [t(s('hostiso_disk_reserve_headroom_bytes'))],
            'bytes',
            g.redBelow0), 3, 4],
    [g.stat('libvirt',
            "The exporter's last libvirt refresh succeeded.",
            [t(s('hostiso_libvirt_up'))],
            'none',
            th([['red', null], ['green', 1]]),
            g.okMappings), 3, 4],
  ]);

  local perCoreHeatmap(title, desc, consumer, scheme) =
    g.heatmap(title,
              desc,
              [t('sum by (cpu) (rate(%s[$__rate_interval]))'
                 % s('hostiso_cpu_seconds_total', 'consumer="%s"' % consumer), '{{cpu}}')],
              'percentunit',
              scheme);

  local cpuTimeByCoreRole = g.row('CPU time by core role', [
    [g.timeseries('Busy share of each role, by consumer',
                  'For each core role (host, dedicated, shared, guest), the share of its '
                  + 'CPU time used by host tasks, guests and steal (5m). Host time on '
                  + 'dedicated/shared cores is intrusion; guest time on host cores means '
                  + 'vCPUs escape their pinning.',
                  [t(s('instance_role_consumer:hostiso_cpu_seconds:share_rate5m',
                       'consumer!="idle"'), '{{role}} {{consumer}}')],
                  'percentunit'), 12, 9],
    [g.timeseries('Cores busy by role and consumer',
                  'CPU seconds per second (= cores busy) by core role and consumer, '
                  + 'stacked. The stack height is how many cores are busy.',
                  [t('sum by (role, consumer) (%s)'
                     % roleJoin(s('hostiso_cpu_seconds_total', 'consumer!="idle"')),
                     '{{role}} {{consumer}}')],
                  'short',
                  stack=true), 12, 9],
    [perCoreHeatmap('Host time per core',
                    "Share of each core's time used by host tasks. On guest cores (see the "
                    + 'role table) this should be close to 0.',
                    'host',
                    'Blues'), 8, 9],
    [perCoreHeatmap('Guest time per core',
                    "Share of each core's time running guests. On host cores this should be 0.",
                    'guest',
                    'Greens'), 8, 9],
    [g.heatmap('Steal per core',
               "Share of each core's time stolen by the layer below this hypervisor (5m).",
               [t(s('instance_cpu:hostiso_cpu_steal:ratio_rate5m'), '{{cpu}}')],
               'percentunit',
               'Reds'), 8, 9],
    [g.table('Per-core consumption now',
             'Each core (number / role) with the share of its time by consumer over the '
             + 'last rate interval. Look for host time on dedicated cores and guest time '
             + 'on host cores.',
             [g.tableTarget('label_join(sum by (cpu, role, consumer) (%s), "core", " / ", '
                            % roleJoin(s('hostiso_cpu_seconds_total'))
                            + '"cpu", "role")')],
             'percentunit',
             [
               g.groupingToMatrix('consumer', 'core'),
               g.organize(order=['core\\consumer', 'host', 'guest', 'steal', 'idle'],
                          rename={ 'core\\consumer': 'cpu / role' }),
             ],
             overrides=[g.overrideUnit('cpu / role', 'none')]), 12, 10],
    [g.table('Core roles and kernel isolation',
             "Role of each CPU from nova.conf next to the kernel's isolcpus and nohz_full "
             + '(1 = set). Host and shared cores must not be isolated; dedicated cores '
             + 'usually are.',
             [
               g.tableTarget('max by (%s, cpu, role) (%s == 1)' % [by, s('hostiso_cpu_role')]),
               maxBy('cpu', 'hostiso_cpu_isolated'),
               maxBy('cpu', 'hostiso_cpu_nohz_full'),
               maxBy('cpu', 'hostiso_cpu_online'),
             ],
             'none',
             [
               g.merge,
               g.organize(exclude=hostColumns + ['Value #A'],
                          order=['cpu', 'role', 'Value #B', 'Value #C', 'Value #D'],
                          rename={
                            'Value #B': 'isolcpus',
                            'Value #C': 'nohz_full',
                            'Value #D': 'online',
                          }),
             ],
             sortBy=[{ displayName: 'cpu', desc: false }]), 12, 10],
    [g.timeseries('Run-queue wait per CPU',
                  'Time tasks waited for each CPU (from /proc/schedstat; empty on kernels '
                  + 'without it). Waiting on a dedicated core means something shares it '
                  + 'with the vCPU pinned there.',
                  [t('rate(%s[$__rate_interval])' % s('hostiso_cpu_runqueue_wait_seconds_total'),
                     'cpu {{cpu}}')],
                  'percentunit'), 24, 8],
  ]);

  // The CPU role joined onto a per-CPU series (info gauges of 1).
  local withRole(metric) =
    '%s * on (%s, cpu) group_left (role) (%s == 1)' % [s(metric), by, s('hostiso_cpu_role')];
  // A per-core figure on every CPU of the core.
  local perCore(expr) =
    'max by (%s, numa_node, package, core, cpu) (%s * on (%s, package, core) group_left () %s)'
    % [by, s('hostiso_cpu_topology_info'), by, expr];

  local topology = g.row('Topology, NUMA and cgroups', [
    [g.table('Cores by NUMA node',
             'Every CPU with its NUMA node, package and physical core (SMT siblings share '
             + 'package and core: they are the rows with the same core) and its role. '
             + '"roles on core" above 1 means one physical core serves two roles, e.g. a '
             + "dedicated CPU whose sibling is the host's: the guest shares the core "
             + '(violation smt_sibling_shared).',
             [
               g.tableTarget('max by (%s, numa_node, package, core, cpu, role) (%s)'
                             % [by, withRole('hostiso_cpu_topology_info')]),
               g.tableTarget(perCore('count by (%s, package, core) (%s)'
                                     % [by, s('hostiso_cpu_topology_info')])),
               g.tableTarget(perCore('count by (%s, package, core) (count by (%s, package, core, role) (%s))'
                                     % [by, by, withRole('hostiso_cpu_topology_info')])),
             ],
             'none',
             [
               g.merge,
               g.organize(exclude=hostColumns + ['Value #A'],
                          order=[
                            'numa_node',
                            'package',
                            'core',
                            'cpu',
                            'role',
                            'Value #B',
                            'Value #C',
                          ],
                          rename={
                            numa_node: 'NUMA node',
                            'Value #B': 'CPUs on core',
                            'Value #C': 'roles on core',
                          }),
               g.toNumbers(['NUMA node', 'package', 'core', 'cpu']),
             ],
             overrides=[g.overrideUnit('roles on core', 'none', [
               { id: 'custom.cellOptions', value: { type: 'color-text' } },
               { id: 'thresholds', value: th([['green', null], ['red', 2]]) },
             ])],
             sortBy=[
               { displayName: 'NUMA node', desc: false },
               { displayName: 'package', desc: false },
               { displayName: 'core', desc: false },
               { displayName: 'cpu', desc: false },
             ]), 10, 10],
    [g.table('Accounting source per CPU',
             "Where each CPU's host/guest split comes from: proc_stat (the kernel's guest "
             + 'column), vcpu_threads (the run time of the vCPU threads pinned there, '
             + 'where the guest column is wrong: nested KVM, TCG) or sched (the eBPF '
             + 'collector, exact).',
             [g.tableTarget('max by (%s, cpu, source) (%s)'
                            % [by, s('hostiso_cpu_accounting_source')])],
             'none',
             [
               g.organize(exclude=hostColumns + ['Value'], order=['cpu', 'source']),
               g.toNumbers(['cpu']),
             ],
             sortBy=[{ displayName: 'cpu', desc: false }]), 4, 10],
    [g.timeseries('CPU time by cgroup slice',
                  "CPU seconds per second (= cores busy) of libvirt's machine slice (the "
                  + 'guests) and of the host slices (system.slice, user.slice, init.scope, '
                  + 'and any named by flag), from cgroup cpu accounting: a host/guest split '
                  + "that does not depend on /proc/stat's guest column.",
                  [t('sum by (slice) (rate(%s[$__rate_interval]))'
                     % s('hostiso_cgroup_cpu_seconds_total'), '{{slice}}')],
                  'short'), 10, 10],
  ]);

  local guestsAndVcpus = g.row('Guests and vCPUs', [
    [g.timeseries('vCPU delay per guest (worst vCPU)',
                  'Seconds per second the worst vCPU of each guest was runnable but '
                  + 'waiting for a physical CPU: the steal the guest sees. Pinned guests on '
                  + 'dedicated cores should stay near 0.',
                  [t('max by (domain) (rate(%s[$__rate_interval]))'
                     % s('hostiso_vcpu_delay_seconds_total'), '{{domain}}')],
                  'percentunit',
                  thresh=th([['transparent', null], ['red', 0.2]])), 12, 9],
    [g.timeseries('vCPU delay by physical CPU',
                  'vCPU run delay attributed to the physical CPU the vCPU was on: which '
                  + 'cores are contended.',
                  [t('rate(%s[$__rate_interval])' % s('hostiso_cpu_vcpu_delay_seconds_total'),
                     'cpu {{cpu}}')],
                  'percentunit'), 12, 9],
    [g.table('vCPU pinning now',
             'Each vCPU with how many physical CPUs it may run on (1 = pinned) and the '
             + 'CPU it last ran on. Floating vCPUs of dedicated-policy guests are a '
             + 'violation.',
             [
               maxBy('domain, vcpu', 'hostiso_vcpu_affinity_cpus'),
               maxBy('domain, vcpu', 'hostiso_vcpu_cpu'),
             ],
             'none',
             [
               g.merge,
               g.organize(exclude=hostColumns,
                          order=['domain', 'vcpu', 'Value #A', 'Value #B'],
                          rename={
                            'Value #A': 'allowed CPUs (1 = pinned)',
                            'Value #B': 'last physical CPU',
                          }),
             ],
             sortBy=[{ displayName: 'domain', desc: false }]), 12, 9],
    [g.timeseries('Physical CPU of each vCPU',
                  'The physical CPU each vCPU last ran on. A pinned vCPU is a flat line; '
                  + 'steps show migrations.',
                  [t(s('hostiso_vcpu_cpu'), '{{domain}} vcpu {{vcpu}}')],
                  'none',
                  points=true,
                  calcs=['lastNotNull']), 12, 9],
    [g.timeseries('vCPU run time per guest',
                  'CPU time the vCPU threads of each guest ran (1 = one core busy). '
                  + "Compare with the guest's vCPU count and with its vCPU delay.",
                  [t('sum by (domain) (rate(%s[$__rate_interval]))'
                     % s('hostiso_vcpu_time_seconds_total'), '{{domain}}')],
                  'short',
                  stack=true), 12, 9],
    [g.table('Guests',
             'Running libvirt domains with their Nova metadata, vCPUs, allocated memory '
             + 'and QEMU resident memory.',
             [
               maxBy('domain, instance_name, project_name, flavor, cpu_policy',
                     'hostiso_domain_info'),
               maxBy('domain', 'hostiso_domain_vcpus'),
               maxBy('domain', 'hostiso_domain_memory_bytes'),
               maxBy('domain', 'hostiso_domain_rss_bytes'),
             ],
             'none',
             [
               g.merge,
               g.organize(exclude=hostColumns + ['Value #A'],
                          order=[
                            'domain',
                            'instance_name',
                            'project_name',
                            'flavor',
                            'cpu_policy',
                            'Value #B',
                            'Value #C',
                            'Value #D',
                          ],
                          rename={
                            'Value #B': 'vCPUs',
                            'Value #C': 'memory',
                            'Value #D': 'QEMU RSS',
                          }),
             ],
             overrides=[g.overrideUnit('memory', 'bytes'), g.overrideUnit('QEMU RSS', 'bytes')],
             sortBy=[{ displayName: 'domain', desc: false }]), 12, 9],
  ]);

  local intrusion = g.row('Host intrusion on guest CPUs', [
    [g.timeseries('Intrusion by process name',
                  'CPU time (1 = one core) that threads belonging to no guest used on '
                  + 'guest cores, by process name. `kernel` is per-CPU kernel threads; '
                  + 'anything else (ovs-vswitchd, monitoring agents...) should be moved to '
                  + 'host cores.',
                  [t('sum by (comm) (rate(%s[$__rate_interval]))'
                     % s('hostiso_intrusion_seconds_total'), '{{comm}}')],
                  'percentunit',
                  stack=true), 12, 9],
    [g.timeseries('Intrusion by guest CPU',
                  'The same intrusion time by guest core: which guest cores the host uses.',
                  [t('sum by (cpu) (rate(%s[$__rate_interval]))'
                     % s('hostiso_intrusion_seconds_total'), 'cpu {{cpu}}')],
                  'percentunit',
                  stack=true), 8, 9],
    [g.timeseries('Host tasks allowed on guest CPUs',
                  'Host threads whose CPU affinity includes a guest core (exposure). '
                  + 'Should be 0 when host services are confined (systemd CPUAffinity).',
                  [t(s('hostiso_host_tasks_on_guest_cpus'), 'host tasks')],
                  'short',
                  calcs=['lastNotNull', 'max']), 4, 9],
  ]);

  local sched = g.row('Scheduler attribution (collector sched)', [
    [g.timeseries("Who held my vCPU's core, per guest",
                  'While a vCPU of the guest was runnable and waiting, what ran on its CPU: '
                  + 'host (a host task), other_guest, own_emulator, own_vcpu, kernel. Seconds '
                  + "per second, summed over the guest's vCPUs. Empty without the eBPF "
                  + 'collector sched (needs CAP_BPF and CAP_PERFMON, or root).',
                  [t('sum by (domain, holder) (rate(%s[$__rate_interval]))'
                     % s('hostiso_domain_wait_attributed_seconds_total'),
                     '{{domain}} {{holder}}')],
                  'short'), 12, 9],
    [g.timeseries('Who held each core, by role and holder',
                  'Exact CPU time (1 = one core) by CPU role and what ran: vcpu, emulator, '
                  + 'host, kernel (idle left out), measured at every context switch. Host '
                  + 'time on dedicated cores and vcpu time on host cores are the problems.',
                  [t('sum by (role, holder) (%s)' % roleJoin(
                       s('hostiso_cpu_held_seconds_total', 'holder!="idle"')
                     ),
                     '{{role}} {{holder}}')],
                  'short',
                  stack=true), 12, 9],
    [g.timeseries('vCPU run-queue latency per guest (p50, p99)',
                  'How long the vCPU threads of each guest waited from runnable to running: '
                  + 'median and 99th percentile over the rate interval.',
                  [
                    t('histogram_quantile(0.5, sum by (domain, le) (rate(%s[$__rate_interval])))'
                      % s('hostiso_domain_runqueue_latency_seconds_bucket'), '{{domain}} p50'),
                    t('histogram_quantile(0.99, sum by (domain, le) (rate(%s[$__rate_interval])))'
                      % s('hostiso_domain_runqueue_latency_seconds_bucket'), '{{domain}} p99'),
                  ],
                  's'), 12, 9],
    [g.timeseries('Host time on guest CPUs by process (exact)',
                  'Host time on guest cores by process name from the scheduler, short-lived '
                  + 'processes included (the thread census misses those between two '
                  + 'censuses). `kernel` is per-CPU kernel threads.',
                  [t('sum by (comm) (rate(%s[$__rate_interval]))'
                     % s('hostiso_sched_intrusion_seconds_total'), '{{comm}}')],
                  'percentunit',
                  stack=true), 12, 9],
  ]);

  local violations = g.row('Isolation violations', [
    [g.timeseries('Subjects in violation by kind',
                  'How many subjects violate isolation now, by kind. Empty is good.',
                  [t('%s > 0' % s('hostiso_violating_subjects'), '{{kind}}')],
                  'short',
                  stack=true), 12, 8],
    [g.timeseries('Violation onsets',
                  'Subjects that entered violation per interval (increase of '
                  + 'hostiso_violations_total), by kind.',
                  [t('sum by (kind) (increase(%s[$__rate_interval])) > 0'
                     % s('hostiso_violations_total'), '{{kind}}')],
                  'short',
                  stack=true,
                  bars=true), 12, 8],
    [g.table('Current violations',
             'Every subject violating now with the offending CPUs. The runbook of each '
             + 'kind says how to fix it.',
             [g.tableTarget(s('hostiso_violation_info'))],
             'none',
             [g.organize(exclude=[
                           'Time',
                           'Value',
                           '__name__',
                           config.clusterLabel,
                           'job',
                           'instance',
                         ],
                         order=['kind', 'subject', 'cpus'],
                         rename={ cpus: 'offending CPUs' })],
             noValue='No violations',
             sortBy=[{ displayName: 'kind', desc: false }]), 24, 8],
  ]);

  local headroom = g.row('Memory and disk headroom', [
    [g.timeseries('Host memory vs reservation',
                  'Memory the host uses (everything but guests) against '
                  + 'reserved_host_memory_mb. Headroom below 0 means the host eats guest '
                  + 'memory: risk of OOM kills of guests.',
                  [
                    t(s('hostiso_memory_reserved_bytes'), 'reserved for the host'),
                    t(s('hostiso_memory_host_used_bytes'), 'used by the host'),
                    t(s('hostiso_memory_reserve_headroom_bytes'), 'headroom'),
                  ],
                  'bytes',
                  min=null,
                  thresh=th([['red', null], ['transparent', 0]])), 12, 8],
    [g.timeseries('Guest memory: allocated vs capacity',
                  'Memory of running guests against (total - reserved) x '
                  + 'ram_allocation_ratio. Allocated above capacity is RAM overcommit.',
                  [
                    t(s('hostiso_memory_guest_allocated_bytes'), 'allocated to guests'),
                    t(s('hostiso_memory_guest_capacity_bytes'), 'guest capacity'),
                    t(s('hostiso_memory_total_bytes'), 'MemTotal'),
                  ],
                  'bytes'), 12, 8],
    [g.timeseries('Instance storage: free vs reserve',
                  'Free space of the instance storage against reserved_host_disk_mb. '
                  + 'Headroom below 0: guests can fill the disk the host needs.',
                  [
                    t(s('hostiso_disk_free_bytes', 'role="instances"'), 'free {{path}}'),
                    t(s('hostiso_disk_reserved_bytes'), 'reserved'),
                    t(s('hostiso_disk_reserve_headroom_bytes'), 'headroom'),
                  ],
                  'bytes',
                  min=null,
                  thresh=th([['red', null], ['transparent', 0]])), 12, 8],
    [g.bargauge('Free space by storage role',
                'Free share of each filesystem or volume group the exporter watches '
                + '(instances, snapshots, root, volume_group).',
                [t('%s / %s' % [s('hostiso_disk_free_bytes'), s('hostiso_disk_size_bytes')],
                   '{{role}} {{path}}',
                   instant=true)],
                'percentunit',
                th([['red', null], ['yellow', 0.1], ['green', 0.2]]),
                max=1,
                link=false), 12, 8],
  ]);

  local exporter = g.row('Exporter', collapsed=true, panels=[
    [g.timeseries('Collector success',
                  "1 when the collector's last run succeeded. A collector stuck at 0 "
                  + 'leaves its metrics stale or missing.',
                  [t(s('hostiso_collector_success'), '{{collector}}')],
                  'none',
                  max=1,
                  calcs=['min', 'lastNotNull']), 8, 8],
    [g.timeseries('Collector duration',
                  'Time each collector took on the last scrape. Rising durations push the '
                  + 'scrape towards its timeout.',
                  [
                    t(s('hostiso_collector_duration_seconds'), '{{collector}}'),
                    t(s('scrape_duration_seconds'), 'whole scrape'),
                  ],
                  's'), 8, 8],
    [g.timeseries('Thread census age and duration',
                  'How old the thread census served is, and how long the last census '
                  + 'took. Age far above the census interval means the census is stuck.',
                  [
                    t(s('hostiso_census_age_seconds'), 'age of census data'),
                    t(s('hostiso_census_duration_seconds'), 'census duration'),
                  ],
                  's'), 8, 8],
    [g.timeseries('Threads seen by the census',
                  'Threads the last census examined.',
                  [t(s('hostiso_census_tasks'), 'threads')],
                  'short'), 8, 8],
    [g.table('Configuration read',
             'What the exporter read from nova.conf and the kernel, as canonical CPU '
             + 'lists, and whether loading it succeeded.',
             [
               maxBy('source, path, cpu_dedicated_set, cpu_shared_set, vcpu_pin_set, '
                     + 'isolcpus, nohz_full, images_type', 'hostiso_config_info'),
               maxBy('source', 'hostiso_config_load_success'),
             ],
             'none',
             [
               g.merge,
               g.organize(exclude=hostColumns + ['Value #A'],
                          order=['source', 'path', 'Value #B'],
                          rename={ 'Value #B': 'loaded' }),
             ]), 16, 8],
  ]);

  g.dashboard(
    'hostiso-host-detail',
    'hostiso / Host detail',
    'One compute host: who uses which core, vCPU delay and pinning, host intrusion on '
    + 'guest cores, violations, memory and disk headroom.',
    [
      atAGlance,
      cpuTimeByCoreRole,
      topology,
      guestsAndVcpus,
      intrusion,
      sched,
      violations,
      headroom,
      exporter,
    ],
    ['host'],
    instanceMulti=false,
    annotations=[{
      datasource: g.ds,
      enable: true,
      hide: false,
      iconColor: 'red',
      name: 'Violation onsets',
      expr: 'sum by (kind) (increase(%s[$__rate_interval])) > 0' % s('hostiso_violations_total'),
      step: '1m',
      titleFormat: 'violation onset',
      textFormat: '{{kind}}',
      useValueForTime: false,
    }],
  )
