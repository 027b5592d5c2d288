/* The layout shared by the BPF program (sched.bpf.c, compiled with clang
 * -target bpf) and the exporter (C++): map keys and values, holder classes,
 * and the run-queue latency bucket math. Plain C, fixed-width types only, so
 * both compilers agree on every offset. */
#ifndef HOSTISO_METRICS_SCHED_SCHED_ABI_H_
#define HOSTISO_METRICS_SCHED_SCHED_ABI_H_

#ifdef __bpf__
/* vmlinux.h already defines __u32/__u64. */
#else
#include <linux/types.h>
#endif

/* Snake case: these names are C, shared with the BPF program. */
/* NOLINTBEGIN(readability-identifier-naming) */

/* What holds a CPU (hostiso_cpu_held_seconds_total{holder}). */
enum hostiso_sched_class {
  HOSTISO_CLASS_HOST = 0,     /* any other task */
  HOSTISO_CLASS_KERNEL = 1,   /* a kernel thread (PF_KTHREAD) */
  HOSTISO_CLASS_IDLE = 2,     /* the idle task (pid 0) */
  HOSTISO_CLASS_VCPU = 3,     /* a vCPU thread of a known domain */
  HOSTISO_CLASS_EMULATOR = 4, /* any other thread of a known QEMU */
  HOSTISO_CLASS_COUNT = 5,
};

/* What held the CPU while one domain's vCPU waited, relative to that domain
 * (hostiso_domain_wait_attributed_seconds_total{holder},
 * hostiso_domain_preemptions_total{by}). Idle time inside a wait (the wakeup
 * of an idle CPU) counts as kernel. */
enum hostiso_sched_rel {
  HOSTISO_REL_HOST = 0,
  HOSTISO_REL_OTHER_GUEST = 1,
  HOSTISO_REL_OWN_EMULATOR = 2,
  HOSTISO_REL_OWN_VCPU = 3,
  HOSTISO_REL_KERNEL = 4,
  HOSTISO_REL_COUNT = 5,
};

/* Run-queue latency buckets: bucket i holds waits of at most
 * HOSTISO_BUCKET_BASE_NS << i nanoseconds (8.192 us, 16.4 us, ... 1.07 s at
 * i = 17); the last one (i = HOSTISO_BUCKETS - 1) is +Inf. */
#define HOSTISO_BUCKET_BASE_SHIFT 13 /* 8192 ns */
#define HOSTISO_BUCKETS 19

/* Caps (documented in docs/metrics.md): the exporter sizes the maps from the
 * host at load and never beyond these. */
#define HOSTISO_MAX_DOMAINS 512
#define HOSTISO_MAX_VCPU_THREADS 16384
#define HOSTISO_MAX_WAITING 16384
/* Names, not (CPU, name) pairs: the map is per-CPU, and drained at every
 * scrape, so it holds only the names that ran on guest-role CPUs since. */
#define HOSTISO_MAX_INTRUSION_COMMS 1024
#define HOSTISO_COMM_LEN 16

/* Map "vcpus": vCPU thread id -> this. */
struct hostiso_vcpu_class {
  __u32 domain; /* index into the per-domain maps, < max domains */
  __u32 vcpu;
};

/* Map "procs": QEMU process id (tgid) -> this. */
struct hostiso_proc_class {
  __u32 domain;
  __u32 pad;
};

/* Map "cpus" (array indexed by CPU; written only by that CPU's
 * sched_switch): who holds it since when, and the time each class held it. */
struct hostiso_cpu_state {
  __u64 since_ns; /* 0: no switch seen yet */
  __u32 holder_class;
  __u32 holder_domain;
  __u64 held_ns[HOSTISO_CLASS_COUNT];
  /* Host time on a guest-role CPU that found the intrusion map full. */
  __u64 intrusion_overflow_ns;
  /* The holder's thread id: a switch whose `prev` is another task means an
   * earlier switch was not seen, and the recorded class is stale. */
  __u32 holder_tid;
  __u32 pad;
  /* Host time on this guest-role CPU not yet added to the intrusion map.
   * Consecutive intervals of one name (a pair of host threads ping-ponging)
   * add up here without a hash lookup; the sum goes to the map when a task
   * of another name, or any task that is not a host task (idle, kernel
   * thread, vCPU, emulator), takes the CPU, and at the first switch after the
   * exporter read the map (intrusion_generation changed). */
  char pending_comm[HOSTISO_COMM_LEN];
  __u64 pending_ns;
  __u64 pending_generation;
};

/* Map "domcpu" (array indexed by cpu * max_domains + domain): the time this
 * domain's vCPUs and emulator threads held that CPU, to tell own from other
 * guests inside a wait. */
struct hostiso_domcpu {
  __u64 vcpu_ns;
  __u64 emulator_ns;
};

/* Map "domains" (per-CPU array indexed by domain). */
struct hostiso_domain_stats {
  __u64 buckets[HOSTISO_BUCKETS]; /* not cumulative */
  __u64 wait_count;
  __u64 wait_sum_ns;
  __u64 attributed_ns[HOSTISO_REL_COUNT];
  __u64 preemptions[HOSTISO_REL_COUNT];
};

/* Map "intrusion" (per-CPU hash): host time on each guest-role CPU by comm
 * (the value of CPU N is the time on CPU N). */
struct hostiso_intrusion_key {
  char comm[HOSTISO_COMM_LEN];
};

/* Map "stats" (per-CPU array of one). */
struct hostiso_sched_stats {
  __u64 events;  /* tracepoint hits handled */
  __u64 dropped; /* entries refused by a full map */
};

/* One record of the task iterator "hostiso_vcpu_iter" (SEC("iter/task")):
 * a registered vCPU thread's own scheduler counters, the very fields
 * /proc/PID/task/TID/schedstat prints (fs/proc/base.c, proc_pid_schedstat:
 * se.sum_exec_runtime, sched_info.run_delay, sched_info.pcount) and stat's
 * "processor" (task_cpu). Kernel totals since the thread started, not sums
 * that began when the programs were attached. */
struct hostiso_vcpu_counters {
  __u32 tid;
  __u32 tgid; /* its process: the sampler checks it is the domain's QEMU */
  __u32 cpu;
  __u32 pad;
  __u64 run_ns;   /* se.sum_exec_runtime */
  __u64 delay_ns; /* sched_info.run_delay */
  __u64 pcount;   /* sched_info.pcount: times it ran on a CPU */
};

/* The bucket of a wait of `ns` nanoseconds: the smallest i with
 * ns <= BASE << i, the +Inf bucket beyond the last bound. Loop-free so the
 * verifier sees a bounded program. */
static inline __u32 hostiso_bucket_of(__u64 ns) {
  __u64 v;
  __u32 log2_ceil = 0;
  if (ns <= (1ULL << HOSTISO_BUCKET_BASE_SHIFT)) return 0;
  v = ns - 1; /* ceil(log2(ns)) = bit length of ns - 1 */
  if (v >> 32) {
    log2_ceil += 32;
    v >>= 32;
  }
  if (v >> 16) {
    log2_ceil += 16;
    v >>= 16;
  }
  if (v >> 8) {
    log2_ceil += 8;
    v >>= 8;
  }
  if (v >> 4) {
    log2_ceil += 4;
    v >>= 4;
  }
  if (v >> 2) {
    log2_ceil += 2;
    v >>= 2;
  }
  if (v >> 1) {
    log2_ceil += 1;
    v >>= 1;
  }
  log2_ceil += (__u32)v;
  log2_ceil -= HOSTISO_BUCKET_BASE_SHIFT;
  return log2_ceil < HOSTISO_BUCKETS - 1 ? log2_ceil : HOSTISO_BUCKETS - 1;
}

/* NOLINTEND(readability-identifier-naming) */

#endif /* HOSTISO_METRICS_SCHED_SCHED_ABI_H_ */
