#!/usr/bin/env python3
"""Each benchmark's CPU time against a baseline, from Google Benchmark's JSON.

On a noisy VM the medians of two benchmarks drift apart by more than the
effect being measured (issue 13's 10 % bar). Run the benchmarks interleaved at
random with many repetitions and compare the per-repetition minimum (the run
least disturbed by other work), the first quartile and the median of each
against the baseline's own:

  hostiso_scrape_bench --benchmark_enable_random_interleaving=true \\
      --benchmark_repetitions=40 --benchmark_min_time=0.2 \\
      --benchmark_format=json > run.json
  bench_ratios.py run.json [--baseline BM_FullScrape]
"""
import argparse
import json
import statistics
import sys


def repetitions(report):
    """CPU time of every repetition (not the aggregates), by benchmark name."""
    runs = {}
    for b in report["benchmarks"]:
        if b.get("run_type") == "iteration":
            runs.setdefault(b["run_name"], []).append(b["cpu_time"])
    return runs


def summary(times):
    return (min(times), statistics.quantiles(times, n=4)[0], statistics.median(times))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("report")
    p.add_argument("--baseline", default="BM_FullScrape")
    args = p.parse_args()
    with open(args.report) as f:
        runs = repetitions(json.load(f))
    if args.baseline not in runs:
        print("no repetitions of %s in %s" % (args.baseline, args.report), file=sys.stderr)
        return 1
    base = summary(runs[args.baseline])
    print("%-46s %18s %18s %18s" % ("benchmark (CPU time)", "min", "first quartile", "median"))
    for name in sorted(runs):
        row = summary(runs[name])
        cells = ["%8.1f (%+6.1f %%)" % (v, 100 * (v / b - 1)) for v, b in zip(row, base)]
        print("%-46s %s" % (name, " ".join(cells)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
