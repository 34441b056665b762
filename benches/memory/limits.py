"""seglake under memory limits: RFM, rfm_segments, kmeans_fit and bgnbd_fit from the raw
transactions of a 50-million-transaction lake, without a limit and under `--memory-limit 1G`
and `512M`, on the lake in customer order and in time order (`seglake gen --layout time`).

Each run is one process (release build, 2 target partitions) running the task as
`EXPLAIN ANALYZE`, which executes the whole query and reports every operator's metrics; the
script records whether it completed or failed (and the error line), the query's time
(`--timing`), the process's peak RSS (`/usr/bin/time`) and the bytes spilled to disk (the
plan's `spilled_bytes`). With --write-readme it replaces the table in benches/README.md.

  cargo build --release
  python3 benches/memory/limits.py --millions 50 --write-readme
"""

import argparse
import datetime
import os
import platform
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "benches", "compare"))
import compare  # noqa: E402  (the harness's task SQL and lake sizes)

AS_OF = compare.AS_OF
RFM_PER_CUSTOMER = f"""(SELECT rfm(order_ts, amount, DATE '{AS_OF}') AS r
                        FROM transactions GROUP BY customer_id)"""
TASKS = {
    "rfm": compare.TASKS["rfm"]["seglake"],
    "rfm_segments": compare.seglake_sql("rfm_segments"),
    "kmeans_fit": f"""SELECT m['inertia'] FROM (
        SELECT kmeans_fit(make_array(ln(1 + r['recency_days']), ln(1 + r['frequency']),
                                     ln(1 + greatest(r['monetary'], 0))), 8,
                          named_struct('n_init', 10)) AS m
        FROM {RFM_PER_CUSTOMER} WHERE r['frequency'] > 0)""",
    "bgnbd_fit": f"""SELECT m['r'] FROM (
        SELECT bgnbd_fit(s['frequency'], s['recency'], s['T']) AS m
        FROM (SELECT btyd_summary(order_ts, amount, DATE '{AS_OF}', 'week') AS s
              FROM transactions WHERE amount > 0 GROUP BY customer_id)
        WHERE s IS NOT NULL)""",
}
LIMITS = [None, "1G", "512M"]
UNITS = {"B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30, "TB": 1 << 40}


def spilled(plan):
    total = 0.0
    for value, unit in re.findall(r"spilled_bytes=([0-9.]+) ?(B|KB|MB|GB|TB)", plan):
        total += float(value) * UNITS[unit]
    return total


def run(binary, lake, task, limit, threads):
    cmd = [binary, "--table", f"transactions={lake}/transactions", "--target-partitions", str(threads),
           "--format", "csv", "-q", "--timing", "-c", "EXPLAIN ANALYZE " + TASKS[task]]
    if limit:
        cmd[1:1] = ["--memory-limit", limit]
    proc = subprocess.run(["/usr/bin/time", "-f", "MAXRSS %M"] + cmd, capture_output=True, text=True)
    rss = int(re.search(r"MAXRSS (\d+)", proc.stderr).group(1)) / 1024
    timing = re.search(r"in ([0-9.]+) s", proc.stderr)
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    return {
        "ok": proc.returncode == 0,
        "seconds": float(timing.group(1)) if timing else None,
        "rss_mib": rss,
        "spilled_mib": spilled(proc.stdout) / (1 << 20),
        "error": errors[0] if errors else ("" if proc.returncode == 0 else proc.stderr.strip()[-300:]),
    }


def table(rows, millions, infos):
    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    out = [f"Run of {datetime.date.today()} on {cpu}, {os.cpu_count()} cores, "
           f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / (1 << 30):.0f} GiB, "
           f"Linux {platform.release()}; {millions}M-transaction lakes "
           + ", ".join(f"{layout} order: {info['transactions']:,} transactions, {info['customers']:,} customers"
                       for layout, info in infos.items()) + ":", "",
           "| layout | task | limit | outcome | seconds | peak RSS MiB | spilled MiB |",
           "|---|---|---|---|---|---|---|"]
    for layout, task, limit, r in rows:
        outcome = "completed" if r["ok"] else "refused: `" + r["error"].replace("|", "\\|")[:120] + "`"
        seconds = f"{r['seconds']:.2f}" if r["seconds"] is not None else "-"
        out.append(f"| {layout} | {task} | {limit or 'none'} | {outcome} | {seconds} | {r['rss_mib']:.0f} | "
                   f"{r['spilled_mib']:.0f} |")
    return "\n".join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "seglake"))
    parser.add_argument("--cache", default=os.path.join(ROOT, "benches", ".lakes"))
    parser.add_argument("--millions", type=int, default=50)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--layouts", default="customer,time")
    parser.add_argument("--write-readme", action="store_true")
    args = parser.parse_args()
    rows, infos = [], {}
    for layout in args.layouts.split(","):
        lake, infos[layout] = compare.ensure_lake(args.binary, args.cache, args.millions, layout)
        for task in args.tasks.split(","):
            for limit in LIMITS:
                r = run(args.binary, lake, task, limit, args.threads)
                rows.append((layout, task, limit, r))
                print(f"{layout} {task} limit={limit or 'none'}: {'ok' if r['ok'] else 'refused'} "
                      f"{r['seconds']} s, {r['rss_mib']:.0f} MiB peak, {r['spilled_mib']:.0f} MiB spilled "
                      f"{r['error']}", flush=True)
    text = table(rows, args.millions, infos)
    print(text)
    if args.write_readme:
        path = os.path.join(ROOT, "benches", "README.md")
        readme = open(path).read()
        start, end = "<!-- memory-limits:start -->", "<!-- memory-limits:end -->"
        block = f"{start}\n{text}\n{end}"
        readme = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda _: block, readme, flags=re.S)
        open(path, "w").write(readme)


if __name__ == "__main__":
    main()
