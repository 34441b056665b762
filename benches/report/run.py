#!/usr/bin/env python3
"""The cost of `seglake report` beyond its queries, and the size of its page.

For each lake: the report's time (median of --runs), then every saved query the report ran,
with the same parameters (read from the page's embedded data, plus `overview`), each run alone
by `seglake run` (median of --runs, less the median time of a process that only opens the
lake, so that per-process start-up does not count against the report). Prints the report's
time, the sum of its queries alone and their ratio, and the page's size.

    python3 benches/report/run.py --lake benches/.lakes/report-1m --lake benches/.lakes/report-10m

Lakes: `seglake gen --customers 50000` (about 1M transactions) and `--customers 500000` (10M).
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def timed(args, runs):
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def embedded_queries(html):
    found = []
    for block in re.findall(r'<script type="application/json" class="figure-data"[^>]*>(.*?)</script>', html, re.S):
        data = json.loads(block.replace("<\\/", "</"))
        key = (data["query"], tuple(sorted(data["params"].items())))
        if key not in found:
            found.append(key)
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lake", action="append", required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "seglake"))
    parser.add_argument("--threads", type=int, default=2, help="--target-partitions")
    args = parser.parse_args()
    partitions = ["--target-partitions", str(args.threads)]
    print("| lake | transactions | report (s) | its queries alone (s) | ratio | page size |")
    print("|---|---|---|---|---|---|")
    for lake in args.lake:
        with tempfile.TemporaryDirectory() as tmp:
            page = os.path.join(tmp, "report.html")
            base = [args.binary, "--lake", lake] + partitions
            report = timed(base + ["report", "--output", page, "-q"], args.runs)
            with open(page, encoding="utf-8") as f:
                html = f.read()
            as_of = re.search(r"as of (\d{4}-\d{2}-\d{2})", html).group(1)
            queries = embedded_queries(html) + [("overview", (("as_of", as_of),))]
            startup = timed(base + ["-c", "SELECT 1", "-q"], args.runs)
            alone = 0.0
            for name, params in queries:
                command = base + ["run", name, "--format", "csv", "--output", os.path.join(tmp, "q.csv")]
                for key, value in params:
                    command += ["--param", f"{key}={value}"]
                seconds = timed(command, args.runs)
                alone += max(seconds - startup, 0.0)
            rows = subprocess.run(base + ["-c", "SELECT count(*) FROM transactions", "--format", "csv", "-q"],
                                  check=True, capture_output=True, text=True).stdout.split()[-1]
            size = os.path.getsize(page)
            print(f"| {os.path.basename(lake)} | {int(rows):,} | {report:.2f} | {alone:.2f} "
                  f"(+ {startup:.2f} start-up each) | {report / alone:.2f}x | {size / 1024:.0f} KiB |")


if __name__ == "__main__":
    main()
