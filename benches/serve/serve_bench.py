"""seglake serve under load, and streaming a large result, against the same work elsewhere.

1. 16 concurrent psycopg clients, each running `rfm_segment_summary` and `kpi_dashboard`
   (models = false) for a fixed number of rounds on the 1M-transaction lake: p50/p99 latency
   per query and errors (must be 0); beside it the same queries through `seglake sql` (one
   process per query, as a scheduled pipeline runs them) and one client alone.
2. A 1M-row result read into Python tuples with psycopg from `seglake serve`, against DuckDB's
   Python client reading the same rows from the same Parquet files: rows per second.

  python3 -m venv .venv-serve && .venv-serve/bin/pip install -r benches/serve/requirements.txt
  cargo build --release
  .venv-serve/bin/python benches/serve/serve_bench.py [--clients 16] [--rounds 5]

The lake is the harness's (benches/compare/compare.py), generated once into benches/.lakes.
"""

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time

import duckdb
import psycopg

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "benches", "compare"))
from compare import ensure_lake, machine  # noqa: E402

QUERIES = {
    "rfm_segment_summary": "SELECT * FROM library.rfm_segment_summary",
    "kpi_dashboard": "SELECT * FROM kpi_dashboard(NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
    "NULL, NULL, false)",
}
STREAM_COLUMNS = "order_id, customer_id, order_ts, amount"


def percentile(values, p):
    values = sorted(values)
    k = (len(values) - 1) * p
    low, high = int(k), min(int(k) + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (k - low)


def start_server(binary, lake, threads):
    proc = subprocess.Popen(
        [binary, "--lake", lake, "--target-partitions", str(threads), "serve",
         "--bind", "127.0.0.1:0", "--statement-timeout", "0"],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    for line in proc.stderr:
        if "listening on 127.0.0.1:" in line:
            port = int(line.split("listening on 127.0.0.1:")[1].split(",")[0])
            threading.Thread(target=proc.stderr.read, daemon=True).start()
            return proc, port
    raise RuntimeError("seglake serve did not start")


def clients_run(port, clients, rounds):
    latencies = {name: [] for name in QUERIES}
    errors = []
    lock = threading.Lock()

    def client(index):
        try:
            with psycopg.connect(f"host=127.0.0.1 port={port} dbname=seglake user=bench{index}",
                                 autocommit=True) as conn:
                for _ in range(rounds):
                    for name, sql in QUERIES.items():
                        start = time.perf_counter()
                        rows = conn.execute(sql).fetchall()
                        elapsed = time.perf_counter() - start
                        with lock:
                            latencies[name].append(elapsed)
                        assert rows, name
        except Exception as e:  # noqa: BLE001 - every failure counts as an error
            with lock:
                errors.append(repr(e))

    start = time.perf_counter()
    workers = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return latencies, errors, time.perf_counter() - start


def cli_latencies(binary, lake, threads, rounds):
    out = {name: [] for name in QUERIES}
    for _ in range(rounds):
        for name, sql in QUERIES.items():
            start = time.perf_counter()
            subprocess.run([binary, "--lake", lake, "--target-partitions", str(threads), "-q",
                            "--format", "csv", "sql", sql], check=True, stdout=subprocess.DEVNULL)
            out[name].append(time.perf_counter() - start)
    return out


def stream_rates(port, lake, rows, repeats):
    sql = f"SELECT {STREAM_COLUMNS} FROM transactions LIMIT {rows}"
    ours, theirs = [], []
    glob = os.path.join(lake, "transactions", "**", "*.parquet")
    con = duckdb.connect()
    con.execute("SET threads = 2")
    for _ in range(repeats):
        with psycopg.connect(f"host=127.0.0.1 port={port} dbname=seglake user=stream",
                             autocommit=True) as conn:
            start = time.perf_counter()
            got = conn.execute(sql).fetchall()
            ours.append(len(got) / (time.perf_counter() - start))
        start = time.perf_counter()
        got = con.execute(f"SELECT {STREAM_COLUMNS} FROM read_parquet('{glob}') LIMIT {rows}").fetchall()
        theirs.append(len(got) / (time.perf_counter() - start))
    return statistics.median(ours), statistics.median(theirs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seglake", default=os.path.join(ROOT, "target", "release", "seglake"))
    parser.add_argument("--cache", default=os.path.join(ROOT, "benches", ".lakes"))
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    lake, info = ensure_lake(args.seglake, args.cache, 1)
    print(f"machine: {machine()}; lake: {info['transactions']:,} transactions, "
          f"{info['customers']:,} customers; --target-partitions {args.threads}")
    server, port = start_server(args.seglake, lake, args.threads)
    try:
        # Warm the file cache and each query's first plan.
        clients_run(port, 1, 1)
        alone, _, _ = clients_run(port, 1, args.rounds)
        loaded, errors, wall = clients_run(port, args.clients, args.rounds)
        cli = cli_latencies(args.seglake, lake, args.threads, args.rounds)
        ours, duck = stream_rates(port, lake, 1_000_000, 3)
    finally:
        server.terminate()
        server.wait()
    print(f"\n{args.clients} clients x {args.rounds} rounds: {wall:.1f} s wall, "
          f"{len(errors)} errors{': ' + errors[0] if errors else ''}")
    print("| query | serve, 16 clients p50 | p99 | serve, 1 client p50 | `seglake sql` p50 |")
    print("|---|---|---|---|---|")
    for name in QUERIES:
        print(f"| {name} | {percentile(loaded[name], 0.5):.3f} s | {percentile(loaded[name], 0.99):.3f} s "
              f"| {percentile(alone[name], 0.5):.3f} s | {percentile(cli[name], 0.5):.3f} s |")
    print(f"\n1M rows ({STREAM_COLUMNS}) into Python tuples: seglake serve + psycopg "
          f"{ours:,.0f} rows/s, DuckDB's Python client {duck:,.0f} rows/s "
          f"(ratio {ours / duck:.2f})")


if __name__ == "__main__":
    main()
