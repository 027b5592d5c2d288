// Short host processes for the sched live test: forks N children one after
// another; each pins itself to CPU C, burns B microseconds of its own CPU time
// (CLOCK_PROCESS_CPUTIME_ID) and exits. The children keep this program's comm
// ("hostiso-burner"), so the exporter's per-comm intrusion shows them under
// one name. Prints the children's CPU time as the kernel accounted it
// (wait4's rusage, user + system) in nanoseconds.
// Usage: hostiso-burner COUNT CPU BURN_US
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long CpuNs(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void Child(int cpu, long long burn_ns) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof(set), &set) != 0) _exit(2);
  const long long start = CpuNs();
  volatile unsigned long spin = 0;
  while (CpuNs() - start < burn_ns) spin++;
  _exit(0);
}

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s COUNT CPU BURN_US\n", argv[0]);
    return 2;
  }
  const int count = atoi(argv[1]);
  const int cpu = atoi(argv[2]);
  const long long burn_ns = atoll(argv[3]) * 1000LL;
  long long total_ns = 0;
  for (int i = 0; i < count; i++) {
    const pid_t pid = fork();
    if (pid < 0) return 1;
    if (pid == 0) Child(cpu, burn_ns);
    int status = 0;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0)
      return 1;
    total_ns += (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000LL +
                (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000LL;
  }
  printf("%lld\n", total_ns);
  return 0;
}
