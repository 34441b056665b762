"""Side-by-side benchmarks: seglake against the tools people would use instead, on the same
generated Parquet lake, in one run.

For each lake size (millions of transactions) and layout (`seglake gen --layout customer`,
each customer's rows together, and `time`, an append-only log in time order) it generates a
lake once with `seglake gen` (cached in --cache), then runs every task in seglake (release build, one process per run, the
query's own time as `--timing` prints it) and in its peer (DuckDB through its Python module, one
process per run, the query's own time), alternating between the two. It reports the median, the
ratio seglake / peer, the peak memory (max RSS) of each, and whether each target is met; with
--write-readme it replaces the results table in benches/README.md.

  python3 -m venv .venv && .venv/bin/pip install -r tests/reference/requirements.txt
  CARGO_TARGET_DIR=target cargo build --release
  .venv/bin/python benches/compare/compare.py --sizes 20,50 --runs 3 --model-sizes 20 --write-readme
"""

import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
AS_OF = "2025-01-01"
TRANSACTIONS_PER_CUSTOMER = 18.8  # what `seglake gen` produces over its default window

# The dashboard's window: the 365 days before AS_OF ({c} is the timestamp column, repeated
# so DuckDB can prune on it).
DASHBOARD_WINDOW = (f">= CAST(DATE '{AS_OF}' - INTERVAL 365 DAY AS TIMESTAMP) AND {{c}} < DATE '{AS_OF}'")

# Each task: the SQL for seglake, the SQL for DuckDB (with {t} the transactions Parquet glob),
# and the target it is held to ("peer": no slower than DuckDB; "floor": within 2x of seglake's
# grouping floor). Queries consume every output column so no engine can skip the work.
TASKS = {
    "io_floor": {
        "what": "scan: sum the three columns RFM reads",
        "seglake": "SELECT sum(customer_id), sum(amount), max(order_ts) FROM transactions",
        "duckdb": "SELECT sum(customer_id), sum(amount), max(order_ts) FROM read_parquet('{t}')",
    },
    "group_floor": {
        "what": "SELECT customer_id, count(*) ... GROUP BY customer_id",
        "seglake": "SELECT count(*), sum(n) FROM (SELECT customer_id, count(*) AS n FROM transactions GROUP BY customer_id)",
        "duckdb": "SELECT count(*), sum(n) FROM (SELECT customer_id, count(*) AS n FROM read_parquet('{t}') GROUP BY customer_id)",
    },
    "rfm": {
        "what": "rfm() per customer vs the same builtin aggregates in DuckDB",
        "seglake": f"""SELECT count(*), sum(r['recency_days']), sum(r['frequency']), sum(r['purchase_days']),
                  sum(r['monetary']), max(r['first_purchase']), max(r['last_purchase'])
           FROM (SELECT customer_id, rfm(order_ts, amount, DATE '{AS_OF}') AS r
                 FROM transactions GROUP BY customer_id)""",
        "duckdb": f"""SELECT count(*), sum(recency_days), sum(frequency), sum(purchase_days), sum(monetary),
                  max(first_purchase), max(last_purchase)
           FROM (SELECT customer_id,
                        DATE '{AS_OF}' - CAST(max(order_ts) FILTER (WHERE amount >= 0) AS DATE) AS recency_days,
                        count(*) FILTER (WHERE amount >= 0) AS frequency,
                        count(DISTINCT CAST(order_ts AS DATE)) FILTER (WHERE amount >= 0) AS purchase_days,
                        sum(amount) AS monetary,
                        min(order_ts) FILTER (WHERE amount >= 0) AS first_purchase,
                        max(order_ts) FILTER (WHERE amount >= 0) AS last_purchase
                 FROM read_parquet('{{t}}') WHERE order_ts < DATE '{AS_OF}' GROUP BY customer_id)""",
        "targets": {"customer": [("peer", 1.0), ("floor", 2.0)],
                    "time": [("peer", 0.5), ("builtins", 1.5)]},
    },
    "builtins": {
        "what": "DataFusion's own count, sum, min and max per customer over the columns rfm() reads",
        "seglake": f"""SELECT count(*), sum(n), sum(s), max(mx), min(mn)
           FROM (SELECT customer_id, count(*) FILTER (WHERE amount >= 0) AS n, sum(amount) AS s,
                        max(order_ts) FILTER (WHERE amount >= 0) AS mx,
                        min(order_ts) FILTER (WHERE amount >= 0) AS mn
                 FROM transactions WHERE order_ts < DATE '{AS_OF}' GROUP BY customer_id)""",
        "duckdb": f"""SELECT count(*), sum(n), sum(s), max(mx), min(mn)
           FROM (SELECT customer_id, count(*) FILTER (WHERE amount >= 0) AS n, sum(amount) AS s,
                        max(order_ts) FILTER (WHERE amount >= 0) AS mx,
                        min(order_ts) FILTER (WHERE amount >= 0) AS mn
                 FROM read_parquet('{{t}}') WHERE order_ts < DATE '{AS_OF}' GROUP BY customer_id)""",
    },
    "rfm_segments": {
        "what": "queries/segmentation/rfm_segments.sql vs equivalent DuckDB SQL",
        "seglake": "@queries/segmentation/rfm_segments.sql",
        "params": {"as_of": f"DATE '{AS_OF}'", "map": "'standard'"},
        "consume": "SELECT count(*), sum(rfm_code), count(DISTINCT segment) FROM ({q})",
        "duckdb": f"""WITH c AS (
             SELECT customer_id,
                    DATE '{AS_OF}' - CAST(max(order_ts) FILTER (WHERE amount >= 0) AS DATE) AS recency_days,
                    count(*) FILTER (WHERE amount >= 0) AS frequency, sum(amount) AS monetary
             FROM read_parquet('{{t}}') WHERE order_ts < DATE '{AS_OF}' GROUP BY customer_id),
           s AS (
             SELECT customer_id, recency_days, frequency, monetary,
                    CAST(CEIL(5 * CUME_DIST() OVER (ORDER BY recency_days DESC)) AS INT) AS r,
                    CAST(CEIL(5 * CUME_DIST() OVER (ORDER BY frequency)) AS INT) AS f,
                    CAST(CEIL(5 * CUME_DIST() OVER (ORDER BY monetary)) AS INT) AS m
             FROM c WHERE frequency > 0)
           SELECT count(*), sum(r * 100 + f * 10 + m), count(DISTINCT CASE
               WHEN r <= 2 AND f <= 2 THEN 'hibernating' WHEN r <= 2 AND f <= 4 THEN 'at_risk'
               WHEN r <= 2 THEN 'cant_lose' WHEN r = 3 AND f <= 2 THEN 'about_to_sleep'
               WHEN r = 3 AND f = 3 THEN 'need_attention' WHEN r <= 4 AND f >= 4 THEN 'loyal'
               WHEN r = 4 AND f = 1 THEN 'promising' WHEN r = 5 AND f = 1 THEN 'new'
               WHEN f <= 3 THEN 'potential_loyalists' ELSE 'champions' END)
           FROM s""",
        "targets": {"customer": [("peer", 1.0)], "time": [("peer", 0.6)]},
    },
    "kpi_dashboard": {
        "what": "queries/kpi/kpi_dashboard.sql with models = false (no CLV or k-means fits; five tables) vs equivalent DuckDB SQL",
        "lake": True,
        "seglake": "@queries/kpi/kpi_dashboard.sql",
        "params": {"as_of": f"DATE '{AS_OF}'", "map": "'standard'", "window_days": "365", "months": "12",
                   "discount_rate": "0.01", "models": "false", "k": "4", "seed": "0"},
        "consume": "SELECT count(*), sum(customers), sum(revenue), sum(orders), sum(nps), "
                   "sum(response_rate), sum(events_per_customer) FROM ({q})",
        "duckdb": "".join(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{{lake}}/{name}/*.parquet');\n"
                          for name in ["transactions", "customers", "surveys", "campaign_contacts", "events"])
        + f"""WITH seg_rfm AS (
             SELECT customer_id,
                    DATE '{AS_OF}' - CAST(max(order_ts) FILTER (WHERE amount >= 0) AS DATE) AS recency_days,
                    count(*) FILTER (WHERE amount >= 0) AS frequency
             FROM transactions WHERE order_ts < DATE '{AS_OF}' GROUP BY customer_id),
           seg_scored AS (
             SELECT customer_id,
                    CAST(CEIL(5 * CUME_DIST() OVER (ORDER BY recency_days DESC)) AS INT) AS r,
                    CAST(CEIL(5 * CUME_DIST() OVER (ORDER BY frequency)) AS INT) AS f
             FROM seg_rfm WHERE frequency > 0),
           segs AS (
             SELECT c.customer_id, CASE
                 WHEN s.customer_id IS NULL THEN 'no_purchase'
                 WHEN r <= 2 AND f <= 2 THEN 'hibernating' WHEN r <= 2 AND f <= 4 THEN 'at_risk'
                 WHEN r <= 2 THEN 'cant_lose' WHEN r = 3 AND f <= 2 THEN 'about_to_sleep'
                 WHEN r = 3 AND f = 3 THEN 'need_attention' WHEN r <= 4 AND f >= 4 THEN 'loyal'
                 WHEN r = 4 AND f = 1 THEN 'promising' WHEN r = 5 AND f = 1 THEN 'new'
                 WHEN f <= 3 THEN 'potential_loyalists' ELSE 'champions' END AS segment
             FROM customers c LEFT JOIN seg_scored s USING (customer_id)
             WHERE c.signup_ts < DATE '{AS_OF}'),
           tx AS (SELECT * FROM transactions WHERE order_ts {DASHBOARD_WINDOW.format(c='order_ts')}),
           sales AS (SELECT segment, count(DISTINCT segs.customer_id) AS customers,
                            coalesce(sum(amount), 0) AS revenue, coalesce(sum(cost), 0) AS cost,
                            count(amount) FILTER (amount >= 0) AS orders,
                            sum(amount) FILTER (amount >= 0) AS order_revenue
                     FROM segs LEFT JOIN tx USING (customer_id) GROUP BY segment),
           sv AS (SELECT segment, 100.0 * (count(*) FILTER (nps >= 9) - count(*) FILTER (nps <= 6)) / count(*) AS nps,
                         avg(satisfaction) AS mean_satisfaction
                  FROM surveys JOIN segs USING (customer_id)
                  WHERE survey_ts {DASHBOARD_WINDOW.format(c='survey_ts')} GROUP BY segment),
           ct AS (SELECT segment, avg(CASE WHEN responded_ts IS NULL THEN 0.0 ELSE 1.0 END) AS response_rate,
                         avg(CASE WHEN converted_ts IS NULL THEN 0.0 ELSE 1.0 END) AS conversion_rate
                  FROM campaign_contacts JOIN segs USING (customer_id)
                  WHERE sent_ts {DASHBOARD_WINDOW.format(c='sent_ts')} GROUP BY segment),
           en AS (SELECT segment, count(*) AS events FROM events JOIN segs USING (customer_id)
                  WHERE event_ts {DASHBOARD_WINDOW.format(c='event_ts')} GROUP BY segment),
           dashboard AS (
             SELECT s.segment, s.customers, s.customers / sum(s.customers) OVER () AS customer_share,
                    s.revenue, s.revenue / sum(s.revenue) OVER () AS revenue_share,
                    CASE WHEN s.revenue <> 0 THEN (s.revenue - s.cost) / s.revenue END AS gross_margin,
                    s.orders, s.order_revenue / nullif(s.orders, 0) AS average_order_value,
                    s.orders / s.customers AS orders_per_customer, sv.nps, sv.mean_satisfaction,
                    ct.response_rate, ct.conversion_rate,
                    coalesce(en.events, 0) / s.customers AS events_per_customer
             FROM sales s LEFT JOIN sv USING (segment) LEFT JOIN ct USING (segment)
                  LEFT JOIN en USING (segment))
           SELECT count(*), sum(customers), sum(revenue), sum(orders), sum(nps), sum(response_rate),
                  sum(events_per_customer)
           FROM dashboard""",
    },
}


# Model tasks (the printed values: inertia, r, p and total CLV, the same on both sides up to
# the optimisers' tolerance) run on per-customer inputs derived once per lake with seglake (cached next to the
# lake): features.parquet (log RFM features, as the kmeans_segments query makes them),
# summary.parquet (btyd_summary in weeks, as the CLV queries make it) and models.parquet (the
# fitted BG/NBD and Gamma-Gamma models, so cltv is timed alone). Each peer runs in Python with
# the same inputs, timing the fit or prediction alone (not the Parquet read).
PREPARE = [
    f"""COPY (SELECT customer_id, ln(1 + r['recency_days']) AS f1, ln(1 + r['frequency']) AS f2,
                    ln(1 + greatest(r['monetary'], 0)) AS f3
             FROM (SELECT customer_id, rfm(order_ts, amount, DATE '{AS_OF}') AS r
                   FROM transactions GROUP BY customer_id)
             WHERE r['frequency'] > 0) TO '{{d}}/features.parquet'""",
    f"""COPY (SELECT customer_id, s['frequency'] AS frequency, s['recency'] AS recency, s['T'] AS t,
                    s['monetary_value'] AS monetary_value
             FROM (SELECT customer_id, btyd_summary(order_ts, amount, DATE '{AS_OF}', 'week') AS s
                   FROM transactions WHERE amount > 0 GROUP BY customer_id)
             WHERE s IS NOT NULL) TO '{{d}}/summary.parquet'""",
    """COPY (SELECT bgnbd_fit(frequency, recency, t) AS bg, gammagamma_fit(frequency, monetary_value) AS gg
             FROM summary) TO '{d}/models.parquet'""",
]

MODEL_TASKS = {
    "kmeans": {
        "what": "kmeans_fit k=8, n_init=10 on 3 standardized features vs scikit-learn KMeans",
        "peer": "scikit-learn",
        "seglake": """SELECT m['inertia'] FROM (SELECT kmeans_fit(make_array(f1, f2, f3), 8,
                        named_struct('n_init', 10)) AS m FROM features)""",
        "python": """
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.preprocessing import StandardScaler
x = pd.read_parquet(D + "/features.parquet")[["f1", "f2", "f3"]].values
start = time.perf_counter()
km = KMeans(n_clusters=8, n_init=10, random_state=0).fit(StandardScaler().fit_transform(x))
seconds = time.perf_counter() - start
print(seconds, km.inertia_)
""",
        "target": ("no slower than scikit-learn at equal or better inertia", 1.0),
    },
    "bgnbd_fit": {
        "what": "bgnbd_fit vs lifetimes BetaGeoFitter on the weekly summary",
        "peer": "lifetimes",
        "seglake": "SELECT m['r'] FROM (SELECT bgnbd_fit(frequency, recency, t) AS m FROM summary)",
        "python": """
import pandas as pd
from lifetimes import BetaGeoFitter
s = pd.read_parquet(D + "/summary.parquet")
start = time.perf_counter()
f = BetaGeoFitter().fit(s["frequency"], s["recency"], s["t"])
seconds = time.perf_counter() - start
print(seconds, f.params_["r"])
""",
        "target": ("at least 20x faster than lifetimes", 1 / 20),
    },
    "gammagamma_fit": {
        "what": "gammagamma_fit vs lifetimes GammaGammaFitter on the returning customers",
        "peer": "lifetimes",
        "seglake": "SELECT m['p'] FROM (SELECT gammagamma_fit(frequency, monetary_value) AS m FROM summary)",
        "python": """
import pandas as pd
from lifetimes import GammaGammaFitter
s = pd.read_parquet(D + "/summary.parquet")
s = s[(s["frequency"] > 0) & (s["monetary_value"] > 0)]
start = time.perf_counter()
f = GammaGammaFitter().fit(s["frequency"], s["monetary_value"])
seconds = time.perf_counter() - start
print(seconds, f.params_["p"])
""",
    },
    "cltv": {
        "what": "cltv per customer (12 months, 1%/month, weeks) with given models vs lifetimes customer_lifetime_value",
        "peer": "lifetimes",
        "seglake": """SELECT sum(cltv(bg, gg, frequency, recency, t, monetary_value, named_struct('period', 'week')))
                      FROM summary CROSS JOIN models""",
        "python": """
import pandas as pd, pyarrow.parquet as pq
from lifetimes import BetaGeoFitter, GammaGammaFitter
s = pd.read_parquet(D + "/summary.parquet")
models = pq.read_table(D + "/models.parquet").to_pylist()[0]
bgf, ggf = BetaGeoFitter(), GammaGammaFitter()
bgf.params_ = pd.Series({k: models["bg"][k] for k in ["r", "alpha", "a", "b"]})
ggf.params_ = pd.Series({k: models["gg"][k] for k in ["p", "q", "v"]})
bgf.predict = bgf.conditional_expected_number_of_purchases_up_to_time
start = time.perf_counter()
v = ggf.customer_lifetime_value(bgf, s["frequency"], s["recency"], s["t"], s["monetary_value"],
                                time=12, discount_rate=0.01, freq="W")
seconds = time.perf_counter() - start
print(seconds, float(v.sum()))
""",
    },
    "paretonbd_fit": {
        "what": "paretonbd_fit vs lifetimes ParetoNBDFitter (the value: each side's log-likelihood)",
        "peer": "lifetimes",
        "seglake": """SELECT m['log_likelihood'] FROM (SELECT paretonbd_fit(frequency, recency, t) AS m
                      FROM summary)""",
        "python": """
import pandas as pd
from lifetimes import ParetoNBDFitter
s = pd.read_parquet(D + "/summary.parquet")
start = time.perf_counter()
f = ParetoNBDFitter().fit(s["frequency"], s["recency"], s["t"])
seconds = time.perf_counter() - start
ll = ParetoNBDFitter._conditional_log_likelihood(f.params_.values, s["frequency"].values,
                                                 s["recency"].values, s["t"].values).sum()
print(seconds, ll)
""",
        "target": ("at least 20x faster than lifetimes at equal log-likelihood", 1 / 20),
        "equal_log_likelihood": True,
    },
    "mbgnbd_fit": {
        "what": "mbgnbd_fit vs lifetimes ModifiedBetaGeoFitter",
        "peer": "lifetimes",
        "seglake": "SELECT m['r'] FROM (SELECT mbgnbd_fit(frequency, recency, t) AS m FROM summary)",
        "python": """
import pandas as pd
from lifetimes import ModifiedBetaGeoFitter
s = pd.read_parquet(D + "/summary.parquet")
start = time.perf_counter()
f = ModifiedBetaGeoFitter().fit(s["frequency"], s["recency"], s["t"])
seconds = time.perf_counter() - start
print(seconds, f.params_["r"])
""",
        "target": ("at least 20x faster than lifetimes", 1 / 20),
    },
    "bgbb_fit": {
        "what": "bgbb_fit vs lifetimes BetaGeoBetaBinomFitter on discrete (opportunity) data",
        "peer": "lifetimes",
        "needs": "discrete",
        "seglake": "SELECT m['alpha'] FROM (SELECT bgbb_fit(frequency, recency, n_periods) AS m FROM discrete)",
        "python": """
import pandas as pd
from lifetimes import BetaGeoBetaBinomFitter
s = pd.read_parquet(D + "/discrete.parquet")
start = time.perf_counter()
f = BetaGeoBetaBinomFitter().fit(s["frequency"], s["recency"], s["n_periods"])
seconds = time.perf_counter() - start
print(seconds, f.params_["alpha"])
""",
        "target": ("at least 20x faster than lifetimes", 1 / 20),
    },
}

# The model tasks a generated lake's inputs serve (bgbb_fit needs opportunity data).
LAKE_MODEL_TASKS = ["kmeans", "bgnbd_fit", "gammagamma_fit", "cltv", "paretonbd_fit", "mbgnbd_fit"]

# Simulated inputs (--simulated N): what a day-level summary over several years looks like,
# with (frequency, recency, T) nearly all distinct, from lifetimes' own simulators: BG/NBD
# customers (CDNOW's parameters, alpha in days) observed for a continuous 30 to 1,095 days, and
# BG/BB customers (the donations' parameters) with 1 to 24 opportunities each (lifetimes
# does not converge on this simulator with up to 52).
SIMULATE = """
import sys, numpy as np, pandas as pd
from lifetimes.generate_data import beta_geometric_nbd_model, beta_geometric_beta_binom_model
n, folder = int(sys.argv[1]), sys.argv[2]
np.random.seed(0)
rng = np.random.RandomState(0)
d = beta_geometric_nbd_model(rng.uniform(30, 3 * 365, n), 0.24, 4.41 * 7, 0.79, 2.43, size=n)
d = d.rename(columns={"T": "t"})[["frequency", "recency", "t"]]
d["monetary_value"] = np.where(d["frequency"] > 0, rng.gamma(6.0, 5.0, n), 0.0)
d.to_parquet(folder + "/summary.parquet.tmp")
b = beta_geometric_beta_binom_model(rng.randint(1, 25, n), 1.204, 0.750, 0.657, 2.783, size=n)
b[["frequency", "recency", "n_periods"]].astype("float64").to_parquet(folder + "/discrete.parquet.tmp")
for name in ["summary", "discrete"]:
    __import__("os").replace(f"{folder}/{name}.parquet.tmp", f"{folder}/{name}.parquet")
"""


def ensure_simulated(cache, customers):
    """The simulated inputs of `customers` customers (see SIMULATE), generated once and cached."""
    folder = os.path.join(cache, f"simulated-{customers}")
    if not os.path.exists(os.path.join(folder, "discrete.parquet")):
        os.makedirs(folder, exist_ok=True)
        subprocess.run([sys.executable, "-c", SIMULATE, str(customers), folder], check=True)
    return folder


BLOBS_PYTHON = """
import pandas as pd
from sklearn.cluster import KMeans
x = pd.read_parquet(P).values
start = time.perf_counter()
km = KMeans(n_clusters=8, n_init=10, random_state=0).fit(x)
seconds = time.perf_counter() - start
print(seconds, km.inertia_)
"""


def ensure_blobs(cache, points, dims):
    """`points` distinct points in `dims` features around 8 Gaussian centres (scikit-learn's
    make_blobs, seed 0), as a feature table without duplicate rows is; cached as Parquet."""
    path = os.path.join(cache, f"blobs-{points}x{dims}.parquet")
    if not os.path.exists(path):
        import pyarrow as pa
        import pyarrow.parquet as pq
        from sklearn.datasets import make_blobs
        x, _ = make_blobs(n_samples=points, n_features=dims, centers=8, cluster_std=2.0, random_state=0)
        pq.write_table(pa.table({f"f{i + 1}": x[:, i] for i in range(dims)}), path + ".tmp")
        os.replace(path + ".tmp", path)
    return path


def run_blobs(binary, path, dims, threads, side):
    """kmeans_fit (k = 8, n_init = 10, no standardisation) on the blobs in seglake or (`side`)
    its scikit-learn equivalent: (seconds, peak MiB, inertia)."""
    features = ", ".join(f"f{i + 1}" for i in range(dims))
    sql = (f"SELECT m['inertia'] FROM (SELECT kmeans_fit(make_array({features}), 8, "
           f"named_struct('n_init', 10, 'standardize', false)) AS m FROM points)")
    cmd = [binary, "--table", f"points={path}", "--target-partitions", str(threads),
           "--format", "csv", "-q", "--timing", "-c", sql]
    if side == "seglake":
        return timed_seglake(cmd, "seglake kmeans on blobs")
    code = "import os, time\nP = " + repr(path) + "\n" + BLOBS_PYTHON
    return timed_python(code, threads, "scikit-learn kmeans on blobs")


def timed_seglake(cmd, what):
    """Runs a seglake command with --timing whose last output line is one number: (seconds of
    the query, peak MiB, the number)."""
    proc = subprocess.run(["/usr/bin/time", "-f", "MAXRSS %M"] + cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{what} failed: {proc.stderr.strip()}")
    seconds = float(re.search(r"in ([0-9.]+) s", proc.stderr).group(1))
    rss = int(re.search(r"MAXRSS (\d+)", proc.stderr).group(1)) / 1024
    return seconds, rss, float(proc.stdout.strip().splitlines()[-1])


def timed_python(code, threads, what):
    """Runs Python `code` (which prints "seconds value" last) on `threads` BLAS/OpenMP threads:
    (seconds, peak MiB, value)."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads))
    proc = subprocess.run(["/usr/bin/time", "-f", "MAXRSS %M", sys.executable, "-c", code],
                          capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"{what} failed: {proc.stderr.strip()}")
    seconds, value = (float(v) for v in proc.stdout.strip().splitlines()[-1].split())
    return seconds, int(re.search(r"MAXRSS (\d+)", proc.stderr).group(1)) / 1024, value


def prepare_models(binary, lake):
    folder = os.path.join(lake, "_bench")
    if os.path.exists(os.path.join(folder, "models.parquet")):
        return folder
    os.makedirs(folder, exist_ok=True)
    for sql in PREPARE:
        subprocess.run([binary, "--lake", lake, "--table", f"summary={folder}/summary.parquet", "-q", "-c",
                        sql.format(d=folder)] if "FROM summary" in sql else
                       [binary, "--lake", lake, "-q", "-c", sql.format(d=folder)],
                       check=True, capture_output=True, text=True)
    return folder


def run_seglake_model(binary, folder, task, threads):
    tables = []
    for name in ["features", "summary", "models", "discrete"]:
        if os.path.exists(f"{folder}/{name}.parquet"):
            tables += ["--table", f"{name}={folder}/{name}.parquet"]
    cmd = [binary, *tables, "--target-partitions", str(threads),
           "--format", "csv", "-q", "--timing", "-c", MODEL_TASKS[task]["seglake"]]
    return timed_seglake(cmd, f"seglake {task}")


def run_python_model(folder, task, threads):
    code = "import os, time\nD = " + repr(folder) + "\n" + MODEL_TASKS[task]["python"]
    return timed_python(code, threads, f"{MODEL_TASKS[task]['peer']} {task}")


def seglake_sql(task):
    """The task's SQL; a saved query (@file) gets its parameters as literals and is wrapped in
    the task's `consume` query."""
    spec = TASKS[task]
    sql = spec["seglake"]
    if not sql.startswith("@"):
        return sql
    text = open(os.path.join(ROOT, sql[1:])).read()
    text = re.sub(r"\$(\w+)", lambda m: spec["params"][m.group(1)], text)
    return spec["consume"].format(q=text)


def run_seglake(binary, lake, task, threads, memory_limit=None):
    tables = ["--lake", lake] if TASKS[task].get("lake") else ["--table", f"transactions={lake}/transactions"]
    cmd = [binary, *tables, "--target-partitions", str(threads),
           "--format", "csv", "-q", "--timing", "-c", seglake_sql(task)]
    if memory_limit:
        cmd[1:1] = ["--memory-limit", memory_limit]
    start = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-f", "MAXRSS %M"] + cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"seglake {task} failed: {proc.stderr.strip()}")
    seconds = float(re.search(r"in ([0-9.]+) s", proc.stderr).group(1))
    rss = int(re.search(r"MAXRSS (\d+)", proc.stderr).group(1)) / 1024
    return seconds, rss, wall


DUCK_RUNNER = """
import sys, time, duckdb
con = duckdb.connect()
con.execute("SET threads = " + sys.argv[1])
con.execute("SET enable_progress_bar = false")
sql = sys.stdin.read()
start = time.perf_counter()
con.execute(sql).fetchall()
print(time.perf_counter() - start)
"""


def run_duckdb(lake, task, threads):
    sql = TASKS[task]["duckdb"].format(t=f"{lake}/transactions/*.parquet", lake=lake)
    proc = subprocess.run(["/usr/bin/time", "-f", "MAXRSS %M", sys.executable, "-c", DUCK_RUNNER, str(threads)],
                          input=sql, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"duckdb {task} failed: {proc.stderr.strip()}")
    seconds = float(proc.stdout.strip().splitlines()[-1])
    rss = int(re.search(r"MAXRSS (\d+)", proc.stderr).group(1)) / 1024
    return seconds, rss


def ensure_lake(binary, cache, millions, layout="customer"):
    """The lake of about `millions` million transactions written in `layout` order (`seglake
    gen --layout`), generated once and cached, and what `_gen.json` records of it."""
    customers = int(millions * 1_000_000 / TRANSACTIONS_PER_CUSTOMER)
    lake = os.path.join(cache, f"lake-{millions}m" + ("" if layout == "customer" else f"-{layout}"))
    info_path = os.path.join(lake, "_gen.json")
    if os.path.exists(info_path):
        info = json.load(open(info_path))
        if "rows" in info:
            return lake, info
    start = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-f", "MAXRSS %M", binary, "gen", "--customers", str(customers),
                           "--layout", layout, "--out", lake, "--overwrite", "-q"], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr)
    seconds = time.perf_counter() - start
    rss = int(re.search(r"MAXRSS (\d+)", proc.stderr).group(1)) / 1024
    out = subprocess.run([binary, "--lake", lake, "--format", "csv", "-q", "-c",
                          "SELECT (SELECT count(*) FROM transactions) + (SELECT count(*) FROM events) + "
                          "(SELECT count(*) FROM campaign_contacts) + (SELECT count(*) FROM customers) + "
                          "(SELECT count(*) FROM surveys) AS rows, (SELECT count(*) FROM transactions) AS tx"],
                         capture_output=True, text=True, check=True).stdout.splitlines()[1].split(",")
    info = {"customers": customers, "rows": int(out[0]), "transactions": int(out[1]),
            "seconds": seconds, "max_rss_mib": rss}
    json.dump(info, open(info_path, "w"))
    return lake, info


def machine():
    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB, {platform.system()} {platform.release()}"


def alternate(runs, ours, theirs):
    """Runs `ours()` and `theirs()` alternately `runs` times; each returns (seconds, peak MiB,
    ...). Gives the median seconds and the highest peak of each side, and every result."""
    a, b = [], []
    for _ in range(runs):
        a.append(ours())
        b.append(theirs())
    return (statistics.median(r[0] for r in a), statistics.median(r[0] for r in b),
            max(r[1] for r in a), max(r[1] for r in b), a, b)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1,10,50", help="lake sizes in millions of transactions")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--seglake", default=os.path.join(ROOT, "target", "release", "seglake"))
    parser.add_argument("--cache", default=os.path.join(ROOT, "benches", ".lakes"))
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--layouts", default="customer,time",
                        help="lake layouts (seglake gen --layout): customer order, time order")
    parser.add_argument("--model-sizes", default="1,20",
                        help="lake sizes (millions of transactions) for the model tasks; empty for none")
    parser.add_argument("--model-tasks", default=",".join(LAKE_MODEL_TASKS))
    parser.add_argument("--simulated", default="50000",
                        help="customer counts of simulated near-distinct summaries for the model tasks; "
                             "empty for none")
    parser.add_argument("--simulated-tasks", default="bgnbd_fit,mbgnbd_fit,paretonbd_fit,bgbb_fit")
    parser.add_argument("--blobs", default="1000000x3,1000000x8",
                        help="POINTSxFEATURES Gaussian-blob tables for kmeans_fit without duplicate rows; "
                             "empty for none")
    parser.add_argument("--spill-check", default="50", help="size (millions) to run RFM under --memory-limit 2G")
    parser.add_argument("--write-readme", action="store_true")
    args = parser.parse_args()

    import duckdb

    os.makedirs(args.cache, exist_ok=True)
    version = subprocess.run([args.seglake, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    rows = []
    gen_rows = []
    for size in [float(s) if "." in s else int(s) for s in args.sizes.split(",") if s]:
        for layout in args.layouts.split(","):
            lake, info = ensure_lake(args.seglake, args.cache, size, layout)
            gen_rows.append((size, layout, info))
            measured = {}
            for task in args.tasks.split(","):
                t_ours, t_theirs, rss_ours, rss_theirs, _, _ = alternate(
                    args.runs, lambda: run_seglake(args.seglake, lake, task, args.threads),
                    lambda: run_duckdb(lake, task, args.threads))
                measured[task] = t_ours
                print(f"{size}M {layout} {task}: seglake {t_ours:.3f}s ({rss_ours:.0f} MiB), duckdb "
                      f"{t_theirs:.3f}s ({rss_theirs:.0f} MiB), ratio {t_ours / t_theirs:.2f}", flush=True)
                rows.append([size, layout, task, t_ours, t_theirs, rss_ours, rss_theirs, []])
            for row in rows:
                if row[0] == size and row[1] == layout:
                    verdicts = [verdict(kind, limit, row[3], row[4], measured)
                                for kind, limit in TASKS[row[2]].get("targets", {}).get(layout, [])]
                    row[7] = [v for v in verdicts if v]
                    for what, ok in row[7]:
                        print(f"  {size}M {layout} {row[2]}: [{'met' if ok else 'MISSED'}: {what}]", flush=True)

    model_rows = []
    inputs = []
    for size in [float(s) if "." in s else int(s) for s in args.model_sizes.split(",") if s]:
        lake, info = ensure_lake(args.seglake, args.cache, size)
        inputs.append((size, prepare_models(args.seglake, lake), args.model_tasks))
    for n in [int(s) for s in args.simulated.split(",") if s]:
        inputs.append((f"simulated {n:,}", ensure_simulated(args.cache, n), args.simulated_tasks))
    for size, folder, tasks in inputs:
        customers = int(subprocess.run(
            [args.seglake, "--table", f"summary={folder}/summary.parquet", "--format", "csv", "-q", "-c",
             "SELECT count(*) FROM summary"], capture_output=True, text=True, check=True).stdout.splitlines()[1])
        for task in tasks.split(","):
            t_ours, t_theirs, rss_ours, rss_theirs, ours, theirs = alternate(
                args.runs, lambda: run_seglake_model(args.seglake, folder, task, args.threads),
                lambda: run_python_model(folder, task, args.threads))
            value_ours, value_theirs = ours[0][2], theirs[0][2]
            verdicts = []
            target = MODEL_TASKS[task].get("target")
            if target:
                what, ratio = target
                ok = t_ours <= ratio * t_theirs
                if task == "kmeans":
                    ok = ok and value_ours <= value_theirs * (1 + 1e-3)
                    what += f" (inertia {value_ours:.6g} vs {value_theirs:.6g})"
                if MODEL_TASKS[task].get("equal_log_likelihood"):
                    ok = ok and value_ours >= value_theirs - 1e-9 * abs(value_theirs)
                    what += f" (log-likelihood {value_ours:.12g} vs {value_theirs:.12g})"
                verdicts.append((what, ok))
            model_rows.append((size, customers, task, MODEL_TASKS[task]["peer"], t_ours, t_theirs, rss_ours,
                               rss_theirs, verdicts))
            print(f"{size if isinstance(size, str) else f'{size}M'} {task} ({customers} customers): seglake {t_ours:.3f}s ({rss_ours:.0f} MiB), "
                  f"{MODEL_TASKS[task]['peer']} {t_theirs:.3f}s ({rss_theirs:.0f} MiB), ratio "
                  f"{t_ours / t_theirs:.3f}; values {value_ours:.8g} vs {value_theirs:.8g} "
                  + " ".join(f"[{'met' if ok else 'MISSED'}: {what}]" for what, ok in verdicts), flush=True)

    for spec in [b for b in args.blobs.split(",") if b]:
        points, dims = (int(v) for v in spec.split("x"))
        path = ensure_blobs(args.cache, points, dims)
        t_ours, t_theirs, rss_ours, rss_theirs, ours, theirs = alternate(
            args.runs, lambda: run_blobs(args.seglake, path, dims, args.threads, "seglake"),
            lambda: run_blobs(args.seglake, path, dims, args.threads, "scikit-learn"))
        inertia_ours, inertia_theirs = ours[0][2], theirs[0][2]
        ok = t_ours <= 0.8 * t_theirs and inertia_ours <= inertia_theirs * (1 + 1e-3)
        what = (f"at most 0.8x scikit-learn at equal or better inertia "
                f"(inertia {inertia_ours:.6g} vs {inertia_theirs:.6g})")
        label = f"{points / 1e6:g}M x {dims} blobs"
        model_rows.append((label, points, f"kmeans ({dims} distinct features, standardize false)",
                           "scikit-learn", t_ours, t_theirs, rss_ours, rss_theirs, [(what, ok)]))
        print(f"{label} kmeans: seglake {t_ours:.3f}s ({rss_ours:.0f} MiB), scikit-learn {t_theirs:.3f}s "
              f"({rss_theirs:.0f} MiB), ratio {t_ours / t_theirs:.3f} [{'met' if ok else 'MISSED'}: {what}]",
              flush=True)

    spill = None
    if args.spill_check:
        spill = []
        for layout in args.layouts.split(","):
            lake, info = ensure_lake(args.seglake, args.cache, int(args.spill_check), layout)
            seconds, rss, _ = run_seglake(args.seglake, lake, "rfm", args.threads, memory_limit="2G")
            spill.append((int(args.spill_check), layout, seconds, rss))
            print(f"{args.spill_check}M {layout} rfm under --memory-limit 2G: {seconds:.2f}s, {rss:.0f} MiB",
                  flush=True)

    table = render(rows, gen_rows, spill, version, duckdb.__version__, args.threads, args.runs, model_rows)
    print(table)
    if args.write_readme:
        path = os.path.join(ROOT, "benches", "README.md")
        text = open(path).read()
        start, end = "<!-- results:start -->\n", "<!-- results:end -->"
        i, j = text.index(start) + len(start), text.index(end)
        open(path, "w").write(text[:i] + table + text[j:])


def verdict(kind, limit, t_ours, t_theirs, measured):
    """(what, met) for one target: at most `limit` times DuckDB's time ("peer"), seglake's
    grouping floor ("floor") or DataFusion's builtin aggregates ("builtins"); None when the
    task it compares with was not run."""
    if kind == "peer":
        return (f"at most {limit:g}x DuckDB", t_ours <= limit * t_theirs)
    base = measured.get({"floor": "group_floor", "builtins": "builtins"}[kind])
    if base is None:
        return None
    name = {"floor": "grouping floor", "builtins": "DataFusion's builtins"}[kind]
    return (f"at most {limit:g}x {name} ({t_ours / base:.2f}x)", t_ours <= limit * base)


def render(rows, gen_rows, spill, version, duck_version, threads, runs, model_rows=()):
    out = [f"Measured {datetime.date.today()} on {machine()}; {threads} threads for both engines; "
           f"{version}, DuckDB {duck_version} (Python); median of {runs} alternating runs, each a fresh "
           "process, timing the query alone.\n",
           "| lake | layout | task | seglake s | DuckDB s | ratio | seglake peak MiB | DuckDB peak MiB | targets |",
           "|---|---|---|---|---|---|---|---|---|"]
    for size, layout, task, t_ours, t_theirs, rss_ours, rss_theirs, verdicts in rows:
        targets = "; ".join(f"{'met' if ok else '**missed**'}: {what}" for what, ok in verdicts) or "-"
        out.append(f"| {size}M tx | {layout} | {task} | {t_ours:.3f} | {t_theirs:.3f} | {t_ours / t_theirs:.2f} | "
                   f"{rss_ours:.0f} | {rss_theirs:.0f} | {targets} |")
    if model_rows:
        import lifetimes
        import sklearn
        out.append(f"\nModels (scikit-learn {sklearn.__version__}, lifetimes {lifetimes.__version__}; inputs "
                   "derived once per lake with seglake; each side times the fit or prediction alone):\n")
        out.append("| lake | customers or points | task | peer | seglake s | peer s | ratio | seglake peak MiB | "
                   "peer peak MiB | targets |")
        out.append("|---|---|---|---|---|---|---|---|---|---|")
        for size, customers, task, peer, t_ours, t_theirs, rss_ours, rss_theirs, verdicts in model_rows:
            targets = "; ".join(f"{'met' if ok else '**missed**'}: {what}" for what, ok in verdicts) or "-"
            lake = size if isinstance(size, str) else f"{size}M tx"
            out.append(f"| {lake} | {customers:,} | {task} | {peer} | {t_ours:.3f} | {t_theirs:.3f} | "
                       f"{t_ours / t_theirs:.3f} | {rss_ours:.0f} | {rss_theirs:.0f} | {targets} |")
    out.append("\n`seglake gen` (cached lakes; all six tables and the truth):\n")
    out.append("| lake | layout | customers | rows written | seconds | rows/s | peak MiB |")
    out.append("|---|---|---|---|---|---|---|")
    for size, layout, info in gen_rows:
        out.append(f"| {size}M tx | {layout} | {info['customers']:,} | {info['rows']:,} | {info['seconds']:.1f} | "
                   f"{info['rows'] / info['seconds']:,.0f} | {info['max_rss_mib']:.0f} |")
    for size, layout, seconds, rss in spill or []:
        out.append(f"\nRFM over the {size}M-transaction lake ({layout} order) under `--memory-limit 2G`: "
                   f"completed in {seconds:.2f} s with a peak of {rss:.0f} MiB.")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    main()
