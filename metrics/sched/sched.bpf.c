// SPDX-License-Identifier: GPL-2.0
/* Scheduler attribution for hostiso_exporter (collector "sched").
 *
 * Four BTF tracepoints (kernel/sched/core.c, kernel/exit.c): sched_switch
 * charges the interval that just ended to the class that held the CPU, and
 * starts or ends a vCPU's wait; sched_wakeup/sched_wakeup_new start a vCPU's
 * wait on the run queue it was put on; sched_process_exit forgets a thread.
 * Everything is aggregated in maps (per-CPU where more than one CPU writes);
 * the exporter reads them at scrape time. No per-event output.
 *
 * Wait attribution: the time each class held a CPU only grows, so the holders
 * during a wait are the growth of those sums between the wait's start (a
 * snapshot taken then, including the current holder's running interval) and
 * its end. Exact for a vCPU that waits on one CPU (pinned vCPUs); a wait that
 * migrated is attributed to the CPU it started on, scaled to its length. */
// vmlinux.h defines the kernel types libbpf's headers use: it comes first.
// clang-format off
#include "vmlinux.h"
// clang-format on

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "sched_abi.h"

char LICENSE[] SEC("license") = "GPL";

#define PF_KTHREAD 0x00200000 /* include/linux/sched.h */
#define TASK_RUNNING 0

/* Set by the exporter before load. */
const volatile __u32 nr_cpus = 1;
const volatile __u32 max_domains = 1;

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __type(key, __u32);
  __type(value, struct hostiso_vcpu_class);
  __uint(max_entries, HOSTISO_MAX_VCPU_THREADS);
} vcpus SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __type(key, __u32);
  __type(value, struct hostiso_proc_class);
  __uint(max_entries, HOSTISO_MAX_DOMAINS);
} procs SEC(".maps");

/* 1 for a guest-role CPU (intrusion by comm is kept only there). */
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __type(key, __u32);
  __type(value, __u32);
  __uint(max_entries, 1); /* resized to nr_cpus */
} guest_cpus SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __type(key, __u32);
  __type(value, struct hostiso_cpu_state);
  __uint(max_entries, 1); /* resized to nr_cpus */
} cpus SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __type(key, __u32);
  __type(value, struct hostiso_domcpu);
  __uint(max_entries, 1); /* resized to nr_cpus * max_domains */
} domcpu SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __type(key, __u32);
  __type(value, struct hostiso_domain_stats);
  __uint(max_entries, 1); /* resized to max_domains */
} domains SEC(".maps");

/* Per-CPU values: each CPU adds to its own slot, without an atomic, and the
 * key is the name alone (one entry for a name seen on many CPUs). */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
  __type(key, struct hostiso_intrusion_key);
  __type(value, __u64);
  __uint(max_entries, HOSTISO_MAX_INTRUSION_COMMS);
} intrusion SEC(".maps");

/* Bumped by the exporter after each change of the vcpus/procs maps: a
 * memoised class older than it is looked up again. */
volatile __u64 class_generation;

/* Bumped by the exporter each time it drains the intrusion map: every CPU
 * then adds its pending name's time to the map at its next switch. */
volatile __u64 intrusion_generation;

/* The last few tasks classified on this CPU (a pair ping-ponging, a vCPU and
 * the idle task): switching between them costs no hash lookup. A slot is a
 * task by (tid, start time), so a reused thread id never matches. */
#define CLASS_MEMO_SLOTS 4
struct class_memo {
  __u64 start_ns;
  __u64 generation;
  __u32 tid;
  __u32 cls;
  __u32 domain;
  __u32 pad;
};
struct class_memos {
  struct class_memo slot[CLASS_MEMO_SLOTS];
  __u32 next; /* the slot the next miss replaces */
  __u32 pad;
};

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __type(key, __u32);
  __type(value, struct class_memos);
  __uint(max_entries, 1);
} class_memo SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __type(key, __u32);
  __type(value, struct hostiso_sched_stats);
  __uint(max_entries, 1);
} stats SEC(".maps");

/* A vCPU waiting to run: since when, on which CPU, and that CPU's holder
 * sums at that moment. */
struct wait_start {
  __u64 ts;
  __u32 cpu;
  __u32 domain;
  __u64 held[HOSTISO_CLASS_COUNT];
  __u64 own_vcpu;
  __u64 own_emulator;
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __type(key, __u32);
  __type(value, struct wait_start);
  __uint(max_entries, HOSTISO_MAX_WAITING);
} waiting SEC(".maps");

struct holder {
  __u32 cls;
  __u32 domain;
};

static __always_inline struct hostiso_sched_stats *Stats(void) {
  __u32 zero = 0;
  return bpf_map_lookup_elem(&stats, &zero);
}

static __always_inline void CountDrop(void) {
  struct hostiso_sched_stats *s = Stats();
  if (s) s->dropped++;
}

/* The class from the maps. A vCPU thread is a thread of its QEMU: only a
 * task of a known QEMU process is looked up among the vCPUs, so a host task
 * costs one lookup, a kernel thread none. */
static __always_inline struct holder LookUpClass(struct task_struct *p,
                                                 __u32 tid) {
  struct holder h = {HOSTISO_CLASS_HOST, 0};
  if (p->flags & PF_KTHREAD) {
    h.cls = HOSTISO_CLASS_KERNEL;
    return h;
  }
  __u32 tgid = p->tgid;
  struct hostiso_proc_class *q = bpf_map_lookup_elem(&procs, &tgid);
  if (!q) return h;
  struct hostiso_vcpu_class *v = bpf_map_lookup_elem(&vcpus, &tid);
  if (v && v->domain == q->domain) {
    h.cls = HOSTISO_CLASS_VCPU;
    h.domain = v->domain;
    return h;
  }
  h.cls = HOSTISO_CLASS_EMULATOR;
  h.domain = q->domain;
  return h;
}

/* The memoised class of `p` on this CPU: 1 with `h` filled, 0 on a miss.
 * `m` is this CPU's entry of class_memo. */
static __always_inline int Recall(struct class_memos *m, __u32 tid, __u64 start,
                                  __u64 generation, struct holder *h) {
  for (int i = 0; i < CLASS_MEMO_SLOTS; i++) {
    struct class_memo *s = &m->slot[i];
    if (s->tid == tid && s->start_ns == start && s->generation == generation) {
      /* A class read back from a map is a plain number to the verifier:
       * bound it, as the callers index arrays with it. */
      __u32 cls = s->cls;
      h->cls = cls < HOSTISO_CLASS_COUNT ? cls : HOSTISO_CLASS_HOST;
      h->domain = s->domain;
      return 1;
    }
  }
  return 0;
}

static __always_inline struct class_memos *Memos(void) {
  __u32 zero = 0;
  return bpf_map_lookup_elem(&class_memo, &zero);
}

static __always_inline struct holder Classify(struct task_struct *p) {
  struct holder h = {HOSTISO_CLASS_IDLE, 0};
  __u32 tid = p->pid;
  if (tid == 0) return h;
  struct class_memos *m = Memos();
  if (!m) return LookUpClass(p, tid);
  __u64 start = p->start_time;
  __u64 generation = class_generation;
  if (Recall(m, tid, start, generation, &h)) return h;
  h = LookUpClass(p, tid);
  __u32 i = m->next % CLASS_MEMO_SLOTS;
  m->next = i + 1;
  struct class_memo *s = &m->slot[i];
  s->tid = tid;
  s->start_ns = start;
  s->generation = generation;
  s->cls = h.cls;
  s->domain = h.domain;
  return h;
}

static __always_inline struct hostiso_domcpu *DomCpu(__u32 cpu, __u32 domain) {
  __u32 key = cpu * max_domains + domain;
  if (domain >= max_domains) return 0;
  return bpf_map_lookup_elem(&domcpu, &key);
}

/* Where `holder` (the class relative to `domain`) goes in a domain's
 * attribution. */
static __always_inline __u32 Relative(__u32 cls, __u32 holder_domain,
                                      __u32 domain) {
  switch (cls) {
    case HOSTISO_CLASS_VCPU:
      return holder_domain == domain ? HOSTISO_REL_OWN_VCPU
                                     : HOSTISO_REL_OTHER_GUEST;
    case HOSTISO_CLASS_EMULATOR:
      return holder_domain == domain ? HOSTISO_REL_OWN_EMULATOR
                                     : HOSTISO_REL_OTHER_GUEST;
    case HOSTISO_CLASS_HOST:
      return HOSTISO_REL_HOST;
    default:
      return HOSTISO_REL_KERNEL;
  }
}

/* Adds `delta` to this CPU's value of `key` in the intrusion map. */
static __always_inline void AddIntrusion(struct hostiso_cpu_state *st,
                                         struct hostiso_intrusion_key *key,
                                         __u64 delta) {
  /* This CPU's value of the entry: only this CPU's sched_switch adds to it,
   * with interrupts off, so a plain add is exact. */
  __u64 *ns = bpf_map_lookup_elem(&intrusion, key);
  if (ns) {
    *ns += delta;
    return;
  }
  /* A new entry holds `delta` on this CPU and 0 on the others. */
  __u64 init = delta;
  if (bpf_map_update_elem(&intrusion, key, &init, BPF_NOEXIST) == 0) return;
  ns = bpf_map_lookup_elem(&intrusion, key); /* another CPU added it */
  if (ns) {
    *ns += delta;
    return;
  }
  st->intrusion_overflow_ns += delta;
  CountDrop();
}

/* The CPU's pending host time goes to the intrusion map. */
static __always_inline void FlushPending(struct hostiso_cpu_state *st) {
  if (st->pending_ns == 0) return;
  struct hostiso_intrusion_key key;
  __builtin_memcpy(key.comm, st->pending_comm, sizeof(key.comm));
  AddIntrusion(st, &key, st->pending_ns);
  st->pending_ns = 0;
}

static __always_inline int SameComm(const char *a, const char *b) {
  __u64 a0, a1, b0, b1;
  __builtin_memcpy(&a0, a, 8);
  __builtin_memcpy(&a1, a + 8, 8);
  __builtin_memcpy(&b0, b, 8);
  __builtin_memcpy(&b1, b + 8, 8);
  return a0 == b0 && a1 == b1;
}

static __always_inline void ChargeIntrusion(__u32 cpu, struct task_struct *p,
                                            struct hostiso_cpu_state *st,
                                            __u64 delta) {
  __u32 *guest = bpf_map_lookup_elem(&guest_cpus, &cpu);
  if (!guest || !*guest) return;
  struct hostiso_intrusion_key key = {};
  /* All 16 bytes: the kernel pads comm with NULs (strscpy_pad); the exporter
   * cuts each name at its first NUL and adds up names that match. Through
   * the helper rather than 8-byte direct loads into the char array, which
   * this kernel's verifier accepts but older ones (Debian 12's 6.1) may not;
   * the direct loads measured no faster here. */
  bpf_probe_read_kernel(key.comm, sizeof(key.comm), p->comm);
  __u64 generation = intrusion_generation;
  if (st->pending_ns != 0 && (st->pending_generation != generation ||
                              !SameComm(st->pending_comm, key.comm)))
    FlushPending(st);
  if (st->pending_ns == 0) {
    __builtin_memcpy(st->pending_comm, key.comm, sizeof(key.comm));
    st->pending_generation = generation;
  }
  st->pending_ns += delta;
}

/* Charges [since, now] to the CPU's current holder (`prev`). */
static __always_inline void Flush(__u32 cpu, struct hostiso_cpu_state *st,
                                  struct task_struct *prev, __u64 now) {
  if (st->since_ns == 0 || now <= st->since_ns) return;
  __u64 delta = now - st->since_ns;
  __u32 cls = st->holder_class;
  if (cls < HOSTISO_CLASS_COUNT) st->held_ns[cls] += delta;
  if (cls == HOSTISO_CLASS_VCPU || cls == HOSTISO_CLASS_EMULATOR) {
    struct hostiso_domcpu *dc = DomCpu(cpu, st->holder_domain);
    if (dc) {
      if (cls == HOSTISO_CLASS_VCPU)
        dc->vcpu_ns += delta;
      else
        dc->emulator_ns += delta;
    }
  } else if (cls == HOSTISO_CLASS_HOST) {
    ChargeIntrusion(cpu, prev, st, delta);
  }
}

/* Records that vCPU `tid` of `domain` starts waiting on `cpu` now. */
static __always_inline void StartWait(__u32 tid, __u32 domain, __u32 cpu,
                                      __u64 now) {
  struct hostiso_cpu_state *st = bpf_map_lookup_elem(&cpus, &cpu);
  if (!st) return;
  struct wait_start w = {};
  w.ts = now;
  w.cpu = cpu;
  w.domain = domain;
  for (int i = 0; i < HOSTISO_CLASS_COUNT; i++) w.held[i] = st->held_ns[i];
  /* Another CPU may be updating `st` (a remote wakeup): a torn read costs at
   * most one interval's attribution, never a negative one (clamped below). */
  __u64 since = st->since_ns;
  __u32 cls = st->holder_class;
  __u32 holder_domain = st->holder_domain;
  __u64 running = since && now > since ? now - since : 0;
  if (cls < HOSTISO_CLASS_COUNT) w.held[cls] += running;
  struct hostiso_domcpu *dc = DomCpu(cpu, domain);
  if (dc) {
    w.own_vcpu = dc->vcpu_ns;
    w.own_emulator = dc->emulator_ns;
    if (holder_domain == domain && cls == HOSTISO_CLASS_VCPU)
      w.own_vcpu += running;
    if (holder_domain == domain && cls == HOSTISO_CLASS_EMULATOR)
      w.own_emulator += running;
  }
  if (bpf_map_update_elem(&waiting, &tid, &w, BPF_ANY) != 0) CountDrop();
}

static __always_inline __u64 Grown(__u64 now_value, __u64 then_value) {
  return now_value > then_value ? now_value - then_value : 0;
}

/* vCPU `tid` runs now on `cpu` (whose holder sums are current): the wait
 * ends; its histogram bucket and its attribution are added. */
static __always_inline void EndWait(__u32 tid, __u64 now) {
  struct wait_start *w = bpf_map_lookup_elem(&waiting, &tid);
  if (!w) return;
  __u32 domain = w->domain;
  __u32 start_cpu = w->cpu;
  __u64 wait = now > w->ts ? now - w->ts : 0;
  struct hostiso_domain_stats *ds = bpf_map_lookup_elem(&domains, &domain);
  struct hostiso_cpu_state *st = bpf_map_lookup_elem(&cpus, &start_cpu);
  struct hostiso_domcpu *dc = DomCpu(start_cpu, domain);
  if (!ds || !st) {
    bpf_map_delete_elem(&waiting, &tid);
    return;
  }
  ds->buckets[hostiso_bucket_of(wait)]++;
  ds->wait_count++;
  ds->wait_sum_ns += wait;

  __u64 rel[HOSTISO_REL_COUNT] = {};
  __u64 own_vcpu = dc ? Grown(dc->vcpu_ns, w->own_vcpu) : 0;
  __u64 own_emulator = dc ? Grown(dc->emulator_ns, w->own_emulator) : 0;
  __u64 guests =
      Grown(st->held_ns[HOSTISO_CLASS_VCPU], w->held[HOSTISO_CLASS_VCPU]) +
      Grown(st->held_ns[HOSTISO_CLASS_EMULATOR],
            w->held[HOSTISO_CLASS_EMULATOR]);
  rel[HOSTISO_REL_OWN_VCPU] = own_vcpu;
  rel[HOSTISO_REL_OWN_EMULATOR] = own_emulator;
  rel[HOSTISO_REL_OTHER_GUEST] = Grown(guests, own_vcpu + own_emulator);
  rel[HOSTISO_REL_HOST] =
      Grown(st->held_ns[HOSTISO_CLASS_HOST], w->held[HOSTISO_CLASS_HOST]);
  rel[HOSTISO_REL_KERNEL] =
      Grown(st->held_ns[HOSTISO_CLASS_KERNEL], w->held[HOSTISO_CLASS_KERNEL]) +
      Grown(st->held_ns[HOSTISO_CLASS_IDLE], w->held[HOSTISO_CLASS_IDLE]);
  __u64 total = 0;
  for (int i = 0; i < HOSTISO_REL_COUNT; i++) total += rel[i];
  /* On the start CPU the sums grew by exactly the wait; after a migration
   * they grew by more: keep the shares, scaled to the wait. */
  for (int i = 0; i < HOSTISO_REL_COUNT; i++) {
    __u64 part = rel[i];
    /* In units of 1.024 us, so the product cannot overflow 64 bits. */
    if (total > wait && (total >> 10) > 0)
      part = part * (wait >> 10) / (total >> 10);
    ds->attributed_ns[i] += part;
  }
  bpf_map_delete_elem(&waiting, &tid);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(hostiso_sched_switch, bool preempt, struct task_struct *prev,
             struct task_struct *next, unsigned int prev_state) {
  __u64 now = bpf_ktime_get_ns();
  __u32 cpu = bpf_get_smp_processor_id();
  struct hostiso_sched_stats *s = Stats();
  if (s) s->events++;
  struct hostiso_cpu_state *st = bpf_map_lookup_elem(&cpus, &cpu);
  if (!st) return 0;
  /* The recorded holder is `prev` unless a switch went unseen (seen on
   * 6.x kernels for a few host threads, by perf's tracepoints as well):
   * then `prev` is classed afresh, and the interval is charged to it, so a
   * vCPU's preemption still starts its wait and its run time is never
   * charged as host time under its own name. */
  if (st->since_ns != 0 && st->holder_tid != prev->pid) {
    struct holder actual = Classify(prev);
    st->holder_class = actual.cls;
    st->holder_domain = actual.domain;
  }
  Flush(cpu, st, prev, now);

  struct holder was = {st->holder_class, st->holder_domain};
  struct holder comes = Classify(next);
  if (st->since_ns == 0) was = Classify(prev);
  /* Host time is held back only while host tasks follow one another on
   * this CPU (each of their switches comes here), and for at most one read
   * of the exporter: idle, a kernel thread or a guest thread taking the CPU
   * (which may then keep it for a long time) sends it to the map. */
  if (comes.cls != HOSTISO_CLASS_HOST ||
      st->pending_generation != intrusion_generation)
    FlushPending(st);
  st->since_ns = now;
  st->holder_class = comes.cls;
  st->holder_domain = comes.domain;
  st->holder_tid = next->pid;

  /* A vCPU switched out while still runnable (or preempted on its way to
   * sleep, which leaves it on the run queue) was preempted: it waits now. */
  if (was.cls == HOSTISO_CLASS_VCPU &&
      (preempt || prev_state == TASK_RUNNING) && prev->pid != 0) {
    __u32 domain = was.domain;
    struct hostiso_domain_stats *ds = bpf_map_lookup_elem(&domains, &domain);
    if (ds) {
      __u32 by = Relative(comes.cls, comes.domain, domain);
      if (by < HOSTISO_REL_COUNT) ds->preemptions[by]++;
    }
    StartWait(prev->pid, domain, cpu, now);
  }
  if (comes.cls == HOSTISO_CLASS_VCPU) EndWait(next->pid, now);
  return 0;
}

static __always_inline int OnWakeup(struct task_struct *p) {
  struct hostiso_sched_stats *s = Stats();
  if (s) s->events++;
  __u32 tid = p->pid;
  if (tid == 0) return 0;
  /* A task that last ran on this CPU (the usual local wakeup) is known to
   * its memo: no hash lookup. The memo is not filled here: it keeps the
   * tasks that switch on this CPU. */
  __u32 domain = 0;
  struct holder h = {HOSTISO_CLASS_HOST, 0};
  struct class_memos *m = Memos();
  if (m && Recall(m, tid, p->start_time, class_generation, &h)) {
    if (h.cls != HOSTISO_CLASS_VCPU) return 0;
    domain = h.domain;
  } else {
    h = LookUpClass(p, tid);
    if (h.cls != HOSTISO_CLASS_VCPU) return 0;
    domain = h.domain;
  }
  /* The run queue the task was put on (kernel/sched/core.c sets it before
   * the tracepoint fires). */
  __u32 cpu = p->thread_info.cpu;
  if (cpu >= nr_cpus) return 0;
  StartWait(tid, domain, cpu, bpf_ktime_get_ns());
  return 0;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(hostiso_sched_wakeup, struct task_struct *p) {
  return OnWakeup(p);
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(hostiso_sched_wakeup_new, struct task_struct *p) {
  return OnWakeup(p);
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(hostiso_sched_process_exit, struct task_struct *p) {
  struct hostiso_sched_stats *s = Stats();
  if (s) s->events++;
  __u32 tid = p->pid;
  /* A thread id is reused: a new thread must not inherit a vCPU's class or
   * a pending wait. */
  bpf_map_delete_elem(&waiting, &tid);
  bpf_map_delete_elem(&vcpus, &tid);
  if (p->pid == p->tgid) bpf_map_delete_elem(&procs, &tid);
  return 0;
}

/* One record per registered vCPU thread, read by the exporter at scrape time
 * (bpf_iter_create + read): its schedstat counters in one pass over the
 * host's tasks instead of one open/read/close of
 * /proc/PID/task/TID/schedstat per vCPU. The values are the task's own
 * fields, read as procfs reads them (plain loads, no lock: schedstat takes
 * none either); sum_exec_runtime of a task on a CPU lags by at most the tick
 * that will fold its current slice in, in both. */
SEC("iter/task")
int hostiso_vcpu_iter(struct bpf_iter__task *ctx) {
  struct task_struct *task = ctx->task;
  if (!task) return 0; /* the end of the walk */
  __u32 tid = task->pid;
  if (!bpf_map_lookup_elem(&vcpus, &tid)) return 0;
  struct hostiso_vcpu_counters r = {};
  r.tid = tid;
  r.tgid = task->tgid;
  r.cpu = task->thread_info.cpu;
  r.run_ns = task->se.sum_exec_runtime;
  r.delay_ns = task->sched_info.run_delay;
  r.pcount = task->sched_info.pcount;
  bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
  return 0;
}
