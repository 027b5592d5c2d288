// Context-switch load for the sched benchmark: two threads pinned to one CPU
// hand a byte back and forth over two pipes, so every hand-over is a
// sched_wakeup and a sched_switch. Prints "ROUND_TRIPS CPU_SECONDS" after
// SECONDS of wall time (CPU time of both threads, from getrusage).
// Usage: hostiso-pingpong CPU SECONDS
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static int to_b[2], to_a[2];
static volatile int stop;

static void Pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static int cpu_arg;

static void* Echo(void* unused) {
  (void)unused;
  Pin(cpu_arg);
  char c;
  while (read(to_b[0], &c, 1) == 1 && c != 'q') {
    if (write(to_a[1], &c, 1) != 1) break;
  }
  return NULL;
}

static double Now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s CPU SECONDS\n", argv[0]);
    return 2;
  }
  cpu_arg = atoi(argv[1]);
  const double seconds = atof(argv[2]);
  if (pipe(to_b) != 0 || pipe(to_a) != 0) return 1;
  Pin(cpu_arg);
  pthread_t echo;
  pthread_create(&echo, NULL, Echo, NULL);
  long long trips = 0;
  const double end = Now() + seconds;
  char c = 'x';
  while (1) {
    if (write(to_b[1], &c, 1) != 1 || read(to_a[0], &c, 1) != 1) return 1;
    if ((++trips & 1023) == 0 && Now() >= end) break;
  }
  c = 'q';
  if (write(to_b[1], &c, 1) != 1) return 1;
  pthread_join(echo, NULL);
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf("%lld %.6f\n", trips,
         ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
             (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
  return 0;
}
