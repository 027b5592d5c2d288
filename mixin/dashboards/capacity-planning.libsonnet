// hostiso / Capacity planning: vCPU, RAM and disk allocated against capacity
// and reservations, and how fast headroom shrinks.
function(config)
  local g = (import '../lib/grafana.libsonnet')(config);
  local s = g.sel;
  local t = g.target;
  local th = g.thresholds;
  local by = g.hostLabels;
  local spare(metric, policy) =
    'sum(clamp_min(%s - %s, 0))' % [
      s('hostiso_vcpu_capacity', 'policy="%s"' % policy),
      s('hostiso_vcpus_allocated', 'policy="%s"' % policy),
    ];
  // Days until the free instance storage reaches the reserve at the pace of
  // the last 6 hours; only hosts whose storage is filling, capped at a year.
  local daysToDiskReserve =
    'sort(clamp_max(clamp_min(%s / on (%s) (-(sum by (%s) (deriv(%s[6h])) < 0)) / 86400, 0), 365))'
    % [
      s('hostiso_disk_reserve_headroom_bytes'),
      by,
      by,
      s('hostiso_disk_free_bytes', 'role="instances"'),
    ];

  local atAGlance = g.row('Fleet capacity at a glance', [
    [g.stat('Hosts',
            'Hosts reporting.',
            [t('count(%s)' % s('hostiso_build_info'))],
            'short',
            noValue='0'), 3, 4],
    [g.stat('Spare shared vCPUs',
            'Sum over hosts of shared-policy vCPU capacity not yet allocated '
            + '(per host, never below 0). Fragmented: a flavor must fit on one host.',
            [t(spare('shared', 'shared'))],
            'short',
            th([['red', null], ['yellow', 8], ['green', 32]]),
            noValue='0'), 3, 4],
    [g.stat('Spare dedicated vCPUs',
            'Sum over hosts of dedicated CPUs not yet used by pinned vCPUs.',
            [t(spare('dedicated', 'dedicated'))],
            'short',
            th([['red', null], ['yellow', 4], ['green', 16]]),
            noValue='0'), 3, 4],
    [g.stat('Spare guest memory',
            'Sum over hosts of guest memory capacity not yet allocated.',
            [t('sum(clamp_min(%s - %s, 0))' % [
              s('hostiso_memory_guest_capacity_bytes'),
              s('hostiso_memory_guest_allocated_bytes'),
            ])],
            'bytes',
            g.green), 3, 4],
    [g.stat('Hosts over vCPU capacity',
            'Hosts where allocated vCPUs exceed capacity for a policy (cpu_overcommit).',
            [t('count(count by (%s) (%s > 1)) or vector(0)'
               % [by, s('instance_policy:hostiso_vcpus_allocated:ratio')])],
            'short',
            g.redFrom1), 3, 4],
    [g.stat('Hosts over RAM capacity',
            'Hosts where guest memory allocated exceeds guest capacity (ram_overcommit).',
            [t('count(%s > 1) or vector(0)' % s('instance:hostiso_memory_guest_allocated:ratio'))],
            'short',
            g.redFrom1), 3, 4],
    [g.stat('Hosts below memory reserve',
            'Hosts whose own memory use exceeds reserved_host_memory_mb.',
            [t('count(%s < 0) or vector(0)' % s('hostiso_memory_reserve_headroom_bytes'))],
            'short',
            g.redFrom1), 3, 4],
    [g.stat('Hosts below disk reserve',
            'Hosts whose free instance storage is below reserved_host_disk_mb.',
            [t('count(%s < 0) or vector(0)' % s('hostiso_disk_reserve_headroom_bytes'))],
            'short',
            g.redFrom1), 3, 4],
  ]);

  local vcpus = g.row('vCPUs', [
    [g.timeseries('vCPUs allocated vs capacity, by policy',
                  'Fleet sums of vCPUs of running guests and of vCPU capacity '
                  + '(shared: CPUs x cpu_allocation_ratio; dedicated: CPUs). The gap is '
                  + 'what is left to schedule.',
                  [
                    t('sum by (policy) (%s)' % s('hostiso_vcpus_allocated'), 'allocated {{policy}}'),
                    t('sum by (policy) (%s)' % s('hostiso_vcpu_capacity'), 'capacity {{policy}}'),
                  ],
                  'short'), 12, 9],
    [g.bargauge('vCPU allocation ratio, fullest hosts',
                'Allocated / capacity per host and policy, top 20. Above 100% is '
                + 'overcommit beyond the configured allocation ratio.',
                [t('sort_desc(topk(20, %s))' % s('instance_policy:hostiso_vcpus_allocated:ratio'),
                   '{{instance}} {{policy}}',
                   instant=true)],
                'percentunit',
                th([['green', null], ['yellow', 0.85], ['red', 1]]),
                max=1), 12, 9],
    [g.timeseries('vCPU allocation ratio by policy',
                  'Fleet mean and fullest host per policy. A rising mean with a flat '
                  + 'maximum means the scheduler still spreads; both near 100% means the '
                  + 'policy is full.',
                  [
                    t('avg by (policy) (%s)' % s('instance_policy:hostiso_vcpus_allocated:ratio'),
                      'mean {{policy}}'),
                    t('max by (policy) (%s)' % s('instance_policy:hostiso_vcpus_allocated:ratio'),
                      'fullest host {{policy}}'),
                  ],
                  'percentunit',
                  thresh=th([['transparent', null], ['red', 1]])), 16, 8],
    [g.table('Configured allocation ratios',
             'cpu/ram/disk_allocation_ratio of each host from nova.conf. Hosts of one '
             + 'aggregate should agree; an outlier skews the capacity above.',
             [g.tableTarget('max by (instance, resource) (%s)' % s('hostiso_allocation_ratio'))],
             'none',
             [
               g.groupingToMatrix('resource', 'instance'),
               g.organize(order=['instance\\resource', 'cpu', 'ram', 'disk'],
                          rename={ 'instance\\resource': 'instance' }),
             ],
             overrides=[g.instanceLinkOverride]), 8, 8],
  ]);

  local memory = g.row('Memory', [
    [g.timeseries('Guest RAM allocated vs capacity',
                  'Fleet sums of memory allocated to running guests and of guest memory '
                  + 'capacity ((MemTotal - reserved) x ram_allocation_ratio).',
                  [
                    t('sum(%s)' % s('hostiso_memory_guest_allocated_bytes'), 'allocated'),
                    t('sum(%s)' % s('hostiso_memory_guest_capacity_bytes'), 'capacity'),
                  ],
                  'bytes'), 12, 9],
    [g.bargauge('Guest RAM allocation ratio, fullest hosts',
                'Guest memory allocated / capacity, top 20 hosts.',
                [t('sort_desc(topk(20, %s))' % s('instance:hostiso_memory_guest_allocated:ratio'),
                   '{{instance}}',
                   instant=true)],
                'percentunit',
                th([['green', null], ['yellow', 0.9], ['red', 1]]),
                max=1), 12, 9],
    [g.timeseries('Memory reserve headroom ratio, lowest 10 hosts',
                  '(reserved - host used) / reserved, the 10 tightest hosts at each '
                  + 'time. A downward trend means host services grow into guest memory; '
                  + 'below 0 the reservation is breached.',
                  [t('bottomk(10, %s)' % s('instance:hostiso_memory_reserve_headroom:ratio'),
                     '{{instance}}')],
                  'percentunit',
                  min=null,
                  thresh=th([['red', null], ['yellow', 0], ['transparent', 0.2]])), 12, 8],
    [g.timeseries('Memory reserve headroom, 6h minimum',
                  'Lowest headroom ratio each host reached over the previous 6 hours, '
                  + 'for the 10 tightest hosts: dips that the 5m view hides.',
                  [t('bottomk(10, min_over_time(%s[6h]))'
                     % s('instance:hostiso_memory_reserve_headroom:ratio'), '{{instance}}')],
                  'percentunit',
                  min=null,
                  thresh=th([['red', null], ['transparent', 0]])), 12, 8],
  ]);

  local disk = g.row('Disk', [
    [g.bargauge('Days until the instance-storage reserve is reached',
                'Disk reserve headroom divided by the rate at which instance storage '
                + 'filled over the last 6 hours (deriv). Only hosts whose storage is '
                + 'filling; capped at 365 days, 0 = already below the reserve.',
                [t(daysToDiskReserve, '{{instance}}', instant=true)],
                'd',
                th([['red', null], ['yellow', 7], ['green', 30]]),
                max=90,
                noValue='No host is filling its instance storage'), 12, 9],
    [g.bargauge('Predicted disk reserve headroom in 7 days',
                'Free instance storage predicted 7 days ahead from the last 6 hours '
                + '(predict_linear) minus the reserve: the 20 lowest. Negative bars will '
                + 'breach the reserve within a week at the current pace.',
                [t('sort(bottomk(20, predict_linear(%s[6h], 7 * 86400) - on (%s) group_left () %s))'
                   % [
                     s('hostiso_disk_free_bytes', 'role="instances"'),
                     by,
                     s('hostiso_disk_reserved_bytes'),
                   ],
                   '{{instance}} {{path}}',
                   instant=true)],
                'bytes',
                g.redBelow0,
                min=null), 12, 9],
    [g.timeseries('Instance storage free ratio, lowest 10 hosts',
                  'Free / size of the instance storage, the 10 fullest hosts.',
                  [t('bottomk(10, %s)' % s('instance:hostiso_disk_free:ratio'),
                     '{{instance}} {{path}}')],
                  'percentunit',
                  max=1,
                  thresh=th([['red', null], ['yellow', 0.1], ['transparent', 0.2]])), 12, 8],
    [g.timeseries('Disk reserve headroom ratio, lowest 10 hosts',
                  '(free instance storage - reserve) / reserve. Below 0 the reserve is '
                  + 'breached.',
                  [t('bottomk(10, %s)' % s('instance:hostiso_disk_reserve_headroom:ratio'),
                     '{{instance}}')],
                  'percentunit',
                  min=null,
                  thresh=th([['red', null], ['transparent', 0]])), 12, 8],
  ]);

  g.dashboard(
    'hostiso-capacity-planning',
    'hostiso / Capacity planning',
    'vCPU, RAM and disk allocated against capacity and reservations, and how fast '
    + 'headroom shrinks.',
    [atAGlance, vcpus, memory, disk],
    ['capacity'],
    instanceMulti=true,
  )
