// Recording rules the dashboards and alerts reuse. Names follow
// level:metric:operations; every rule keeps the cluster label, `job` and
// `instance`, and joins match on them.
local utils = import '../lib/utils.libsonnet';

{
  prometheusRules+:: {
    local c = $._config,
    local by = utils.hostLabels(c),
    local v = { sel: c.hostisoSelector, by: by, w: c.rateInterval },
    groups+: [
      {
        name: 'hostiso.rules',
        rules: [
          {
            // Share of all CPU time of the host stolen by the hypervisor
            // underneath it (the compute node is itself a VM) or by firmware.
            record: 'instance:hostiso_cpu_steal:ratio_rate5m',
            expr: |||
              sum by (%(by)s) (rate(hostiso_cpu_seconds_total{%(sel)s,consumer="steal"}[%(w)s]))
              /
              (sum by (%(by)s) (rate(hostiso_cpu_seconds_total{%(sel)s}[%(w)s])) > 0)
            ||| % v,
          },
          {
            // Same, per logical CPU.
            record: 'instance_cpu:hostiso_cpu_steal:ratio_rate5m',
            expr: |||
              sum by (%(by)s, cpu) (rate(hostiso_cpu_seconds_total{%(sel)s,consumer="steal"}[%(w)s]))
              /
              (sum by (%(by)s, cpu) (rate(hostiso_cpu_seconds_total{%(sel)s}[%(w)s])) > 0)
            ||| % v,
          },
          {
            // For each CPU role (host, dedicated, shared, guest): which share
            // of the role's CPU time went to each consumer.
            record: 'instance_role_consumer:hostiso_cpu_seconds:share_rate5m',
            expr: |||
              sum by (%(by)s, role, consumer) (
                rate(hostiso_cpu_seconds_total{%(sel)s}[%(w)s])
                * on (%(by)s, cpu) group_left (role)
                (hostiso_cpu_role{%(sel)s} == 1)
              )
              / on (%(by)s, role) group_left ()
              (
                sum by (%(by)s, role) (
                  rate(hostiso_cpu_seconds_total{%(sel)s}[%(w)s])
                  * on (%(by)s, cpu) group_left (role)
                  (hostiso_cpu_role{%(sel)s} == 1)
                ) > 0
              )
            ||| % v,
          },
          {
            // Worst vCPU of each domain: seconds runnable but waiting for a
            // physical CPU, per second (0..1): the steal the guest sees.
            record: 'instance_domain:hostiso_vcpu_delay:ratio_rate5m',
            expr: |||
              max by (%(by)s, domain) (rate(hostiso_vcpu_delay_seconds_total{%(sel)s}[%(w)s]))
            ||| % v,
          },
          {
            // vCPUs allocated to running domains over the vCPU capacity, per policy.
            record: 'instance_policy:hostiso_vcpus_allocated:ratio',
            expr: |||
              sum by (%(by)s, policy) (hostiso_vcpus_allocated{%(sel)s})
              /
              (sum by (%(by)s, policy) (hostiso_vcpu_capacity{%(sel)s}) > 0)
            ||| % v,
          },
          {
            // Guest memory allocated over guest memory capacity.
            record: 'instance:hostiso_memory_guest_allocated:ratio',
            expr: |||
              sum by (%(by)s) (hostiso_memory_guest_allocated_bytes{%(sel)s})
              /
              (sum by (%(by)s) (hostiso_memory_guest_capacity_bytes{%(sel)s}) > 0)
            ||| % v,
          },
          {
            // Memory reservation headroom as a share of the reservation
            // (1 = host uses nothing, 0 = reservation used up, < 0 = breach).
            record: 'instance:hostiso_memory_reserve_headroom:ratio',
            expr: |||
              sum by (%(by)s) (hostiso_memory_reserve_headroom_bytes{%(sel)s})
              /
              (sum by (%(by)s) (hostiso_memory_reserved_bytes{%(sel)s}) > 0)
            ||| % v,
          },
          {
            // Free instance storage beyond the disk reservation, as a share
            // of the reservation (< 0 = breach).
            record: 'instance:hostiso_disk_reserve_headroom:ratio',
            expr: |||
              sum by (%(by)s) (hostiso_disk_reserve_headroom_bytes{%(sel)s})
              /
              (sum by (%(by)s) (hostiso_disk_reserved_bytes{%(sel)s}) > 0)
            ||| % v,
          },
          {
            // Free share of the instance storage, per path (file-based image
            // backends; with images_type = lvm it is role="volume_group").
            record: 'instance:hostiso_disk_free:ratio',
            expr: |||
              sum by (%(by)s, path) (hostiso_disk_free_bytes{%(sel)s,role="instances"})
              /
              (sum by (%(by)s, path) (hostiso_disk_size_bytes{%(sel)s,role="instances"}) > 0)
            ||| % v,
          },
        ],
      },
    ],
  },
}
