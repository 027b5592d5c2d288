// hostiso / Fleet overview: which compute hosts steal, delay their guests'
// vCPUs or break CPU isolation.
function(config)
  local g = (import '../lib/grafana.libsonnet')(config);
  local s = g.sel;
  local t = g.target;
  local th = g.thresholds;
  local by = g.hostLabels;

  local atAGlance = g.row('Fleet at a glance', [
    [g.stat('Hosts reporting',
            'Hosts whose exporter exposes hostiso_build_info. Compare with your '
            + 'inventory: a missing host is not monitored.',
            [t('count(%s)' % s('hostiso_build_info'))],
            'short',
            noValue='0'), 3, 4],
    [g.stat('Exporters down',
            'Scrape targets of the selected jobs that Prometheus cannot scrape (up == 0). '
            + 'Anything above 0 means blind spots.',
            [t('count(%s == 0) or vector(0)' % s('up'))],
            'short',
            g.redFrom1), 3, 4],
    [g.stat('Collectors failing',
            'Collector runs that failed on the last scrape, across the fleet '
            + '(hostiso_collector_success == 0). See the exporter health table below.',
            [t('count(%s == 0) or vector(0)' % s('hostiso_collector_success'))],
            'short',
            g.redFrom1), 3, 4],
    [g.stat('Hosts with violations',
            'Hosts with at least one isolation violation now.',
            [t('count(sum by (%s) (%s) > 0) or vector(0)'
               % [by, s('hostiso_violating_subjects')])],
            'short',
            g.redFrom1), 3, 4],
    [g.stat('Violating subjects',
            'Subjects (vCPUs, threads, IRQs, config files, ...) in violation now, '
            + 'summed over all kinds and hosts.',
            [t('sum(%s)' % s('hostiso_violating_subjects'))],
            'short',
            g.redFrom1), 3, 4],
    [g.stat('Hosts without isolation',
            'Hosts where no guest CPU set was found in nova.conf (every CPU is shared '
            + 'between host and guests). Intended for non-isolated hosts only.',
            [t('count(%s == 0) or vector(0)' % s('hostiso_isolation_configured'))],
            'short',
            th([['green', null], ['yellow', 1]])), 3, 4],
    [g.stat('Mean host steal',
            'Average over hosts of the share of CPU time stolen (5m rate). '
            + 'Steal on a hypervisor means it is itself a guest or oversubscribed.',
            [t('avg(%s)' % s('instance:hostiso_cpu_steal:ratio_rate5m'))],
            'percentunit',
            th([['green', null], ['yellow', 0.02], ['red', 0.1]]),
            decimals=2), 3, 4],
    [g.stat('Worst guest vCPU delay',
            'Highest vCPU run delay of any guest (seconds waited per second by its '
            + 'worst vCPU, 5m). This is the steal the guest sees. Pinned guests should '
            + 'stay near 0.',
            [t('max(%s)' % s('instance_domain:hostiso_vcpu_delay:ratio_rate5m'))],
            'percentunit',
            th([['green', null], ['yellow', 0.05], ['red', 0.2]]),
            decimals=2), 3, 4],
  ]);

  local rankings = g.row('Rankings', [
    [g.bargauge('Hosts ranked by steal',
                'Top 15 hosts by share of CPU time stolen from the hypervisor (5m rate). '
                + 'Click a bar to open the host detail.',
                [t('sort_desc(topk(15, %s))' % s('instance:hostiso_cpu_steal:ratio_rate5m'),
                   '{{instance}}',
                   instant=true)],
                'percentunit',
                th([['green', null], ['yellow', 0.02], ['red', 0.1]]),
                max=1), 8, 10],
    [g.bargauge('Hosts ranked by vCPU delay',
                'Top 15 hosts by the vCPU run delay of their worst guest (seconds waited '
                + 'per second, 5m). High values: guests wait for a physical CPU, look for '
                + 'overcommit, floating vCPUs on busy cores or host intrusion.',
                [t('sort_desc(topk(15, max by (%s) (%s)))'
                   % [by, s('instance_domain:hostiso_vcpu_delay:ratio_rate5m')],
                   '{{instance}}',
                   instant=true)],
                'percentunit',
                th([['green', null], ['yellow', 0.05], ['red', 0.2]]),
                max=1), 8, 10],
    [g.bargauge('Hosts ranked by violations',
                'Top 15 hosts by number of subjects in violation now (all kinds). '
                + 'Empty is good.',
                [t('sort_desc(topk(15, sum by (%s) (%s) > 0))'
                   % [by, s('hostiso_violating_subjects')], '{{instance}}', instant=true)],
                'short',
                th([['orange', null], ['red', 5]]),
                min=0,
                noValue='No violations'), 8, 10],
  ]);

  local violations = g.row('Violations', [
    [g.table('Current violations',
             'One row per subject violating now: which host, which kind, the subject '
             + '(vCPU, emulator thread, process, IRQ, config) and the offending CPUs. '
             + 'The runbooks explain each kind.',
             [g.tableTarget(s('hostiso_violation_info'))],
             'none',
             [g.organize(exclude=['Time', 'Value', '__name__', 'job'],
                         order=['instance', 'kind', 'subject', 'cpus'],
                         rename={ cpus: 'offending CPUs' })],
             overrides=[g.instanceLinkOverride],
             noValue='No violations',
             sortBy=[{ displayName: 'instance', desc: false }]), 24, 9],
    [g.timeseries('Subjects in violation by kind',
                  'Subjects in violation over time, fleet wide, stacked by kind. '
                  + 'A kind that appears fleet wide at once usually means a config rollout.',
                  [t('sum by (kind) (%s) > 0' % s('hostiso_violating_subjects'), '{{kind}}')],
                  'short',
                  stack=true), 12, 8],
    [g.timeseries('Violation onsets by kind',
                  'How many subjects entered violation per interval (increase of '
                  + 'hostiso_violations_total). Repeated onsets mean a flapping cause.',
                  [t('sum by (kind) (increase(%s[$__rate_interval])) > 0'
                     % s('hostiso_violations_total'), '{{kind}}')],
                  'short',
                  stack=true,
                  bars=true), 12, 8],
  ]);

  local contention = g.row('Contention over time', [
    [g.timeseries('Steal, worst 10 hosts',
                  'Share of CPU time stolen (5m rate) for the 10 hosts with the most '
                  + 'steal at each point in time.',
                  [t('topk(10, %s)' % s('instance:hostiso_cpu_steal:ratio_rate5m'),
                     '{{instance}}')],
                  'percentunit'), 12, 8],
    [g.table('Guests with the most vCPU delay',
             'The 20 guests whose worst vCPU waited most for a physical CPU (5m), with '
             + 'their Nova instance name, project and flavor.',
             [g.tableTarget('topk(20, %s * on (%s, domain) group_left '
                            % [s('instance_domain:hostiso_vcpu_delay:ratio_rate5m'), by]
                            + '(instance_name, project_name, flavor, cpu_policy) %s)'
                              % s('hostiso_domain_info'))],
             'none',
             [g.organize(exclude=['Time', '__name__', 'job'],
                         order=[
                           'instance',
                           'domain',
                           'instance_name',
                           'project_name',
                           'flavor',
                           'cpu_policy',
                           'Value',
                         ],
                         rename={ Value: 'vCPU delay' })],
             overrides=[
               g.instanceLinkOverride,
               g.overrideUnit('vCPU delay', 'percentunit', [
                 { id: 'custom.cellOptions', value: { type: 'color-text' } },
                 {
                   id: 'thresholds',
                   value: th([['green', null], ['yellow', 0.05], ['red', 0.2]]),
                 },
               ]),
             ],
             sortBy=[{ displayName: 'vCPU delay', desc: true }]), 12, 8],
  ]);

  local exporterHealth = g.row('Exporter health', [
    [g.stateTimeline('Exporter up',
                     'Scrape status of every exporter of the selected jobs. Red: '
                     + 'Prometheus could not scrape it and every other panel is blind '
                     + 'for that host.',
                     [t(s('up'), '{{instance}}')],
                     'none',
                     g.upMappings,
                     th([['red', null], ['green', 1]])), 12, 8],
    [g.table('Collectors failing now',
             'Collectors that failed on the last scrape (hostiso_collector_success == 0). '
             + "Check the exporter's log on that host.",
             [g.tableTarget('%s == 0' % s('hostiso_collector_success'))],
             'none',
             [g.organize(exclude=['Time', 'Value', '__name__', 'job'],
                         order=['instance', 'collector'])],
             overrides=[g.instanceLinkOverride],
             noValue='All collectors succeeded'), 6, 8],
    [g.table('Exporter versions',
             'How many hosts run each exporter version and revision.',
             [g.tableTarget('count by (version, revision) (%s)' % s('hostiso_build_info'))],
             'short',
             [g.organize(exclude=['Time'],
                         order=['version', 'revision', 'Value'],
                         rename={ Value: 'hosts' })]), 6, 8],
  ]);

  g.dashboard(
    'hostiso-fleet-overview',
    'hostiso / Fleet overview',
    "Which compute hosts steal, delay their guests' vCPUs or break CPU isolation.",
    [atAGlance, rankings, violations, contention, exporterHealth],
    ['fleet'],
    instanceMulti=true,
  )
