"""Reference results for the saved query library, computed with DuckDB 2.0 SQL written
independently of seglake's queries, over a generated lake.

The lake: seglake gen --customers 2000 --seed 42 --out /tmp/library-lake (generator version 1;
tests/library_reference.rs generates the same lake and runs seglake's queries on it with the
parameters below).

Writes library/<query>.csv next to this script, one file per saved query, rows in the query's
order.

Run: .venv/bin/python tests/reference/make_library_reference.py /tmp/library-lake
"""

import os
import sys

import duckdb

HERE = os.path.dirname(os.path.abspath(__file__))

QUERIES = {
    # cohort/retention with as_of 2024-01-01, max_months 12.
    "retention": """
        WITH p AS (SELECT customer_id, date_trunc('month', order_ts) AS m FROM transactions
                   WHERE amount >= 0 AND order_ts < DATE '2024-01-01'),
        c AS (SELECT customer_id, min(m) AS cohort FROM p GROUP BY customer_id),
        s AS (SELECT cohort, count(*) AS n FROM c GROUP BY cohort),
        a AS (SELECT c.cohort, date_diff('month', c.cohort, p.m) AS k,
                     count(DISTINCT p.customer_id) AS act
              FROM p JOIN c USING (customer_id) GROUP BY ALL),
        g AS (SELECT s.cohort, s.n, t.k FROM s, range(0, 13) t(k)
              WHERE s.cohort + to_months(t.k) < DATE '2024-01-01')
        SELECT CAST(g.cohort AS DATE) AS cohort, g.n AS cohort_customers, g.k AS months_since,
               coalesce(a.act, 0) AS active_customers, coalesce(a.act, 0) / g.n AS retention_rate
        FROM g LEFT JOIN a USING (cohort, k) ORDER BY cohort, months_since""",
    # kpi/* with period [2023-01-01, 2024-01-01); churn_rate with active_days 365.
    "churn_rate": """
        WITH base AS (
          SELECT DISTINCT customer_id FROM transactions
          WHERE amount >= 0 AND order_ts < DATE '2023-01-01'
            AND order_ts >= DATE '2023-01-01' - INTERVAL 365 DAY),
        kept AS (
          SELECT DISTINCT customer_id FROM transactions
          WHERE amount >= 0 AND order_ts >= DATE '2023-01-01' AND order_ts < DATE '2024-01-01')
        SELECT DATE '2023-01-01' AS period_start, DATE '2024-01-01' AS period_end,
               count(*) AS active_at_start,
               count(*) FILTER (k.customer_id IS NOT NULL) AS retained,
               count(*) FILTER (k.customer_id IS NULL) AS churned,
               count(*) FILTER (k.customer_id IS NULL) / count(*) AS churn_rate,
               count(*) FILTER (k.customer_id IS NOT NULL) / count(*) AS retention_rate
        FROM base b LEFT JOIN kept k USING (customer_id)""",
    "purchase_frequency": """
        SELECT CAST(date_trunc('month', order_ts) AS DATE) AS month, count(*) AS orders,
               count(DISTINCT customer_id) AS customers,
               count(*) / count(DISTINCT customer_id) AS purchase_frequency
        FROM transactions
        WHERE amount >= 0 AND order_ts >= DATE '2023-01-01' AND order_ts < DATE '2024-01-01'
        GROUP BY ALL ORDER BY month""",
    "average_order_value": """
        SELECT CAST(date_trunc('month', order_ts) AS DATE) AS month,
               count(*) FILTER (amount >= 0) AS orders,
               sum(amount) FILTER (amount >= 0) AS order_revenue,
               avg(amount) FILTER (amount >= 0) AS average_order_value,
               coalesce(sum(-amount) FILTER (amount < 0), 0) AS refunds,
               sum(amount) AS net_revenue
        FROM transactions
        WHERE order_ts >= DATE '2023-01-01' AND order_ts < DATE '2024-01-01'
        GROUP BY ALL ORDER BY month""",
    "gross_margin": """
        SELECT CAST(date_trunc('month', order_ts) AS DATE) AS month,
               coalesce(category, 'all') AS category,
               sum(amount) AS revenue, sum(cost) AS cost, sum(amount) - sum(cost) AS gross_profit,
               (sum(amount) - sum(cost)) / sum(amount) AS gross_margin
        FROM transactions
        WHERE order_ts >= DATE '2023-01-01' AND order_ts < DATE '2024-01-01'
        GROUP BY GROUPING SETS ((1, category), (1))
        ORDER BY month, category IS NULL, category""",
    "romi_by_campaign": """
        SELECT c.campaign_id, c.name, c.channel, CAST(c.start_ts AS DATE) AS start_date,
               count(k.customer_id) AS contacts, count(k.converted_ts) AS conversions, c.cost,
               coalesce(sum(k.revenue), 0) AS attributed_revenue,
               coalesce(sum(k.revenue), 0) / c.cost - 1 AS romi
        FROM campaigns c LEFT JOIN campaign_contacts k USING (campaign_id)
        WHERE c.start_ts >= DATE '2023-01-01' AND c.start_ts < DATE '2024-01-01'
        GROUP BY c.campaign_id, c.name, c.channel, c.start_ts, c.cost
        ORDER BY c.start_ts, c.campaign_id""",
    "response_and_conversion_rates": """
        SELECT CAST(date_trunc('month', k.sent_ts) AS DATE) AS month, c.channel,
               count(*) AS sent, count(k.responded_ts) AS responded,
               count(k.converted_ts) AS converted,
               avg(CASE WHEN k.responded_ts IS NULL THEN 0 ELSE 1 END) AS response_rate,
               avg(CASE WHEN k.converted_ts IS NULL THEN 0 ELSE 1 END) AS conversion_rate,
               CASE WHEN count(k.responded_ts) > 0
                    THEN count(k.converted_ts) / count(k.responded_ts) END
                 AS responder_conversion_rate
        FROM campaign_contacts k JOIN campaigns c USING (campaign_id)
        WHERE k.sent_ts >= DATE '2023-01-01' AND k.sent_ts < DATE '2024-01-01'
        GROUP BY ALL ORDER BY month, channel""",
}


def main():
    lake = sys.argv[1]
    con = duckdb.connect()
    for table in ["customers", "transactions", "events", "campaigns", "campaign_contacts", "surveys"]:
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{lake}/{table}/*.parquet')")
    out = os.path.join(HERE, "library")
    os.makedirs(out, exist_ok=True)
    for name, sql in QUERIES.items():
        try:
            con.execute(f"COPY ({sql}) TO '{out}/{name}.csv' (HEADER)")
        except duckdb.Error as e:
            sys.exit(f"{name}: {e}")


if __name__ == "__main__":
    main()
