#!/usr/bin/env python3
"""seglake on a local Ballista cluster against local execution, on the same lake in one run.

Starts `seglake cluster scheduler` and two `seglake cluster executor --concurrent-tasks 1`
on 127.0.0.1, then times each task alternately locally (--target-partitions 2) and through
the cluster (--cluster df://...), and prints medians and ratios, then the cluster's
EXPLAIN ANALYZE of rfm_segments (stages, tasks, where the time goes).

    python3 benches/cluster/cluster_bench.py --seglake target/release/seglake \
        --lake /data/lake-500k --runs 5
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

TASKS = [
    ("rfm_segments", ["run", "rfm_segments", "--param", "as_of=2024-07-01"]),
    ("kpi_dashboard (models=false)",
     ["run", "kpi_dashboard", "--param", "as_of=2024-07-01", "--param", "models=false"]),
    ("kmeans_fit (k=4, log-RFM)", ["sql",
        "WITH v AS (SELECT rfm(order_ts, amount, DATE '2024-07-01') AS v FROM transactions "
        "WHERE order_ts < DATE '2024-07-01' GROUP BY customer_id) "
        "SELECT kmeans_fit(make_array(ln(1 + v['recency_days']), ln(1 + v['frequency']), "
        "ln(1 + greatest(v['monetary'], 0))), 4, named_struct('seed', 7))['inertia'] FROM v"]),
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"nothing listens on {port}")


def timed(cmd):
    start = time.perf_counter()
    out = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if out.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed: {out.stderr}")
    return elapsed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seglake", default="target/release/seglake")
    parser.add_argument("--lake", required=True)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    logs = tempfile.mkdtemp(prefix="seglake-cluster-bench-")
    sched = free_port()
    procs = [subprocess.Popen(
        [args.seglake, "cluster", "scheduler", "--bind", f"127.0.0.1:{sched}"],
        stdout=open(os.path.join(logs, "scheduler.log"), "w"), stderr=subprocess.STDOUT)]
    wait_port(sched)
    for i in range(2):
        flight, grpc = free_port(), free_port()
        procs.append(subprocess.Popen(
            [args.seglake, "cluster", "executor", "--scheduler", f"127.0.0.1:{sched}",
             "--bind", f"127.0.0.1:{flight}", "--grpc-port", str(grpc),
             "--concurrent-tasks", "1", "--work-dir", os.path.join(logs, f"work{i}")],
            stdout=open(os.path.join(logs, f"executor{i}.log"), "w"),
            stderr=subprocess.STDOUT))
        wait_port(grpc)
    time.sleep(2)
    url = f"df://127.0.0.1:{sched}"
    local = [args.seglake, "--lake", args.lake, "--target-partitions", "2", "-q",
             "--format", "csv"]
    remote = [args.seglake, "--lake", args.lake, "--cluster", url, "-q", "--format", "csv"]
    try:
        timed(remote + TASKS[0][1])  # warm-up: sessions, file listing
        print(f"| task | local 2 threads (s) | cluster 2x1 core (s) | cluster / local |")
        print("|---|---|---|---|")
        for name, task in TASKS:
            times = {"local": [], "cluster": []}
            for _ in range(args.runs):
                times["local"].append(timed(local + task))
                times["cluster"].append(timed(remote + task))
            l, c = statistics.median(times["local"]), statistics.median(times["cluster"])
            print(f"| {name} | {l:.2f} | {c:.2f} | {c / l:.2f}x |")
        print()
        explain = subprocess.run(
            remote[:-2] + ["--format", "table", "--maxrows", "0", "sql",
                           "EXPLAIN ANALYZE SELECT * FROM rfm_segments('2024-07-01')"],
            capture_output=True, text=True)
        print(explain.stdout[-6000:] or explain.stderr)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait()


if __name__ == "__main__":
    main()
