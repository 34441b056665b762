"""Reference results for the saved query library, computed with DuckDB 2.0 SQL written
independently of seglake's queries, over a generated lake.

The lake: seglake gen --customers 2000 --seed 42 --out /tmp/library-lake (generator version 1;
tests/library_reference.rs generates the same lake and runs seglake's queries on it with the
parameters below).

kpi_dashboard's CLV columns come from lifetimes 0.11.3 (per-customer CLV, summed per segment in
DuckDB), so they agree to the fits' tolerance (1e-3) rather than to the last digit. Its k-means
columns come from scikit-learn's KMeans(n_clusters=4, n_init=10, random_state=0) on the
standardized log RFM features, clusters numbered by size (largest first): k-means has many local
minima, so a few boundary customers may sit in a neighbouring cluster (shares agree to ~0.03).

Writes library/<query>.csv next to this script, one file per saved query, rows in the query's
order.

Run: .venv/bin/python tests/reference/make_library_reference.py /tmp/library-lake
"""

import os
import sys

import duckdb

HERE = os.path.dirname(os.path.abspath(__file__))

# RFM segments as of 2024-01-01 (standard R-F map, scores CEIL(5 * CUME_DIST()) with recency
# reversed), 'no_purchase' for customers signed up before then without a purchase.
SEGMENTS = """
    seg_rfm AS (
      SELECT customer_id,
             DATE '2024-01-01' - CAST(max(order_ts) FILTER (amount >= 0) AS DATE) AS recency_days,
             count(*) FILTER (amount >= 0) AS frequency
      FROM transactions WHERE order_ts < DATE '2024-01-01' GROUP BY customer_id),
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
      WHERE c.signup_ts < DATE '2024-01-01')"""
WINDOW = "BETWEEN DATE '2023-01-01' AND TIMESTAMP '2023-12-31 23:59:59.999999'"

def segments_at(day, name):
    """RFM segments at `day` as a CTE `name` (customer_id, segment) of buyers before it."""
    return f"""
    {name}_rfm AS (
      SELECT customer_id,
             DATE '{day}' - CAST(max(order_ts) FILTER (amount >= 0) AS DATE) AS recency_days,
             count(*) FILTER (amount >= 0) AS frequency
      FROM transactions WHERE order_ts < DATE '{day}' GROUP BY customer_id),
    {name}_scored AS (
      SELECT customer_id,
             CAST(CEIL(5 * CUME_DIST() OVER (ORDER BY recency_days DESC)) AS INT) AS r,
             CAST(CEIL(5 * CUME_DIST() OVER (ORDER BY frequency)) AS INT) AS f
      FROM {name}_rfm WHERE frequency > 0),
    {name} AS (
      SELECT customer_id, CASE
          WHEN r <= 2 AND f <= 2 THEN 'hibernating' WHEN r <= 2 AND f <= 4 THEN 'at_risk'
          WHEN r <= 2 THEN 'cant_lose' WHEN r = 3 AND f <= 2 THEN 'about_to_sleep'
          WHEN r = 3 AND f = 3 THEN 'need_attention' WHEN r <= 4 AND f >= 4 THEN 'loyal'
          WHEN r = 4 AND f = 1 THEN 'promising' WHEN r = 5 AND f = 1 THEN 'new'
          WHEN f <= 3 THEN 'potential_loyalists' ELSE 'champions' END AS segment
      FROM {name}_scored)"""


def stages_at(day, name, until):
    """Lifecycle stages at `day` (default thresholds) of customers signed up before `until`."""
    return f"""
    {name}_hist AS (
      SELECT customer_id, min(order_ts) FILTER (amount >= 0) AS first_ts,
             max(order_ts) FILTER (amount >= 0) AS last_ts
      FROM transactions WHERE order_ts < DATE '{day}' GROUP BY customer_id),
    {name}_year AS (
      SELECT customer_id, count(*) FILTER (amount >= 0) AS n, sum(amount) AS spend
      FROM transactions
      WHERE order_ts < DATE '{day}' AND CAST(order_ts AS DATE) >= DATE '{day}' - INTERVAL 365 DAY
      GROUP BY customer_id),
    {name} AS (
      SELECT c.customer_id, CASE
          WHEN c.signup_ts >= DATE '{day}' THEN 'not_signed_up'
          WHEN h.first_ts IS NULL THEN 'prospect'
          WHEN DATE '{day}' - CAST(h.first_ts AS DATE) <= 30 THEN 'new'
          WHEN DATE '{day}' - CAST(h.last_ts AS DATE) <= 90 THEN
            CASE WHEN coalesce(y.n, 0) >= 5 OR coalesce(y.spend, 0) >= 500 THEN 'loyal' ELSE 'active' END
          WHEN DATE '{day}' - CAST(h.last_ts AS DATE) <= 180 THEN 'at_risk'
          ELSE 'churned' END AS stage
      FROM customers c LEFT JOIN {name}_hist h USING (customer_id)
           LEFT JOIN {name}_year y USING (customer_id)
      WHERE c.signup_ts < DATE '{until}')"""


STAGE_ORDER = "['not_signed_up', 'prospect', 'new', 'active', 'loyal', 'at_risk', 'churned']"

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
    # Segment KPIs as of 2024-01-01 over the 365 days before.
    "nps_by_segment": f"""
        WITH {SEGMENTS}
        SELECT segment, count(*) AS responses, count(*) FILTER (nps >= 9) AS promoters,
               count(*) FILTER (nps IN (7, 8)) AS passives, count(*) FILTER (nps <= 6) AS detractors,
               100.0 * (count(*) FILTER (nps >= 9) - count(*) FILTER (nps <= 6)) / count(*) AS nps
        FROM surveys JOIN segs USING (customer_id) WHERE survey_ts {WINDOW}
        GROUP BY segment ORDER BY nps DESC, segment""",
    "satisfaction_by_segment": f"""
        WITH {SEGMENTS}
        SELECT segment, count(satisfaction) AS responses, avg(satisfaction) AS mean_satisfaction,
               avg(CASE WHEN satisfaction >= 4 THEN 1.0 ELSE 0.0 END) AS satisfied_share
        FROM surveys JOIN segs USING (customer_id) WHERE survey_ts {WINDOW}
        GROUP BY segment ORDER BY mean_satisfaction DESC, segment""",
    "engagement_by_segment": f"""
        WITH {SEGMENTS},
        ev AS (SELECT segment, customer_id, CAST(event_ts AS DATE) AS day
               FROM events JOIN segs USING (customer_id) WHERE event_ts {WINDOW}),
        sizes AS (SELECT segment, count(*) AS customers FROM segs GROUP BY segment),
        totals AS (SELECT segment, count(*) AS events, count(DISTINCT customer_id) AS engaged,
                          count(DISTINCT (customer_id, day)) AS active_days FROM ev GROUP BY segment),
        dau AS (SELECT segment, count(DISTINCT (customer_id, day)) / 365.0 AS mean_daily FROM ev GROUP BY segment),
        mau AS (SELECT segment, avg(n) AS mean_monthly FROM (
                  SELECT segment, date_trunc('month', day) AS m, count(DISTINCT customer_id) AS n
                  FROM ev GROUP BY ALL) GROUP BY segment)
        SELECT s.segment, s.customers, coalesce(t.engaged, 0) AS engaged_customers,
               coalesce(t.events, 0) AS events, coalesce(t.events, 0) / s.customers AS events_per_customer,
               coalesce(t.active_days, 0) / s.customers AS active_days_per_customer,
               d.mean_daily / m.mean_monthly AS stickiness
        FROM sizes s LEFT JOIN totals t USING (segment) LEFT JOIN dau d USING (segment)
             LEFT JOIN mau m USING (segment)
        ORDER BY events_per_customer DESC, s.segment""",
    "touchpoints": f"""
        WITH {SEGMENTS},
        t AS (SELECT customer_id, channel FROM transactions WHERE order_ts {WINDOW}
              UNION SELECT customer_id, channel FROM events WHERE event_ts {WINDOW}
              UNION SELECT k.customer_id, c.channel FROM campaign_contacts k JOIN campaigns c USING (campaign_id)
                    WHERE k.sent_ts {WINDOW}),
        pc AS (SELECT segment, customer_id, (SELECT count(*) FROM t WHERE t.customer_id = segs.customer_id) AS n
               FROM segs)
        SELECT segment, count(*) AS customers, avg(n) AS mean_touchpoints,
               avg(CASE WHEN n = 0 THEN 1.0 ELSE 0.0 END) AS no_touchpoint_share,
               avg(CASE WHEN n = 1 THEN 1.0 ELSE 0.0 END) AS single_channel_share,
               avg(CASE WHEN n >= 2 THEN 1.0 ELSE 0.0 END) AS multichannel_share
        FROM pc GROUP BY segment ORDER BY mean_touchpoints DESC, segment""",
    "segment_contribution": f"""
        WITH {SEGMENTS},
        per AS (SELECT segment, count(DISTINCT segs.customer_id) AS customers,
                       coalesce(sum(amount), 0) AS revenue, coalesce(sum(amount - cost), 0) AS gross_profit
                FROM segs LEFT JOIN (SELECT * FROM transactions WHERE order_ts {WINDOW}) x USING (customer_id)
                GROUP BY segment)
        SELECT segment, customers, customers / sum(customers) OVER () AS customer_share,
               revenue, revenue / sum(revenue) OVER () AS revenue_share,
               gross_profit, gross_profit / sum(gross_profit) OVER () AS gross_profit_share
        FROM per ORDER BY revenue DESC, segment""",
    "kpi_dashboard": f"""
        WITH {SEGMENTS},
        tx AS (SELECT * FROM transactions WHERE order_ts {WINDOW}),
        sales AS (SELECT segment, count(DISTINCT segs.customer_id) AS customers,
                         coalesce(sum(amount), 0) AS revenue, coalesce(sum(cost), 0) AS cost,
                         count(amount) FILTER (amount >= 0) AS orders,
                         sum(amount) FILTER (amount >= 0) AS order_revenue
                  FROM segs LEFT JOIN tx USING (customer_id) GROUP BY segment),
        sv AS (SELECT segment, 100.0 * (count(*) FILTER (nps >= 9) - count(*) FILTER (nps <= 6)) / count(*) AS nps,
                      avg(satisfaction) AS mean_satisfaction
               FROM surveys JOIN segs USING (customer_id) WHERE survey_ts {WINDOW} GROUP BY segment),
        ct AS (SELECT segment, avg(CASE WHEN responded_ts IS NULL THEN 0.0 ELSE 1.0 END) AS response_rate,
                      avg(CASE WHEN converted_ts IS NULL THEN 0.0 ELSE 1.0 END) AS conversion_rate
               FROM campaign_contacts JOIN segs USING (customer_id) WHERE sent_ts {WINDOW} GROUP BY segment),
        en AS (SELECT segment, count(*) AS events FROM events JOIN segs USING (customer_id)
               WHERE event_ts {WINDOW} GROUP BY segment),
        cl AS (SELECT segment, sum(cltv) AS total_cltv, avg(cltv) AS mean_cltv
               FROM lifetimes_clv JOIN segs USING (customer_id) GROUP BY segment),
        mix AS (SELECT segment, cluster, count(*) / sum(count(*)) OVER (PARTITION BY segment) AS share,
                       row_number() OVER (PARTITION BY segment ORDER BY count(*) DESC, cluster) AS place
                FROM sklearn_clusters JOIN segs USING (customer_id) GROUP BY segment, cluster),
        km AS (SELECT segment, cluster, share FROM mix WHERE place = 1)
        SELECT s.segment, s.customers, s.customers / sum(s.customers) OVER () AS customer_share,
               s.revenue, s.revenue / sum(s.revenue) OVER () AS revenue_share,
               CASE WHEN s.revenue <> 0 THEN (s.revenue - s.cost) / s.revenue END AS gross_margin,
               s.orders, s.order_revenue / nullif(s.orders, 0) AS average_order_value,
               s.orders / s.customers AS orders_per_customer, sv.nps, sv.mean_satisfaction,
               ct.response_rate, ct.conversion_rate, coalesce(en.events, 0) / s.customers AS events_per_customer,
               cl.total_cltv, cl.mean_cltv, km.cluster AS kmeans_cluster, km.share AS kmeans_cluster_share
        FROM sales s LEFT JOIN sv USING (segment) LEFT JOIN ct USING (segment) LEFT JOIN en USING (segment)
             LEFT JOIN cl USING (segment) LEFT JOIN km USING (segment)
        ORDER BY s.revenue DESC, s.segment""",
    # Migrations from 2023-07-01 to 2024-01-01.
    "segment_migration": f"""
        WITH {segments_at('2023-07-01', 'a')}, {segments_at('2024-01-01', 'b')}
        , m AS (SELECT coalesce(a.segment, 'no_purchase') AS from_segment,
                      coalesce(b.segment, 'no_purchase') AS to_segment
                FROM customers c LEFT JOIN a USING (customer_id) LEFT JOIN b USING (customer_id)
                WHERE c.signup_ts < DATE '2024-01-01')
        SELECT from_segment, to_segment, count(*) AS customers,
               count(*) / sum(count(*)) OVER (PARTITION BY from_segment) AS share
        FROM m GROUP BY from_segment, to_segment ORDER BY from_segment, to_segment""",
    "lifecycle_migration": f"""
        WITH {stages_at('2023-07-01', 'a', '2024-01-01')}, {stages_at('2024-01-01', 'b', '2024-01-01')}
        SELECT a.stage AS from_stage, b.stage AS to_stage, count(*) AS customers,
               count(*) / sum(count(*)) OVER (PARTITION BY a.stage) AS share
        FROM a JOIN b USING (customer_id)
        GROUP BY a.stage, b.stage
        ORDER BY list_position({STAGE_ORDER}, from_stage), list_position({STAGE_ORDER}, to_stage)""",
    # kpi/overview as of 2024-01-01.
    "overview": """
        SELECT count(DISTINCT customer_id) FILTER (amount >= 0) AS customers,
               count(*) FILTER (amount >= 0) AS orders,
               coalesce(sum(amount), 0) AS revenue,
               avg(amount) FILTER (amount >= 0) AS average_order_value,
               min(order_ts) AS first_order, max(order_ts) AS last_order,
               count(*) AS transactions
        FROM transactions WHERE order_ts < DATE '2024-01-01'""",
    # segmentation/revenue_concentration as of 2024-01-01, tier shares 0.5 and 0.8.
    "revenue_concentration": """
        WITH spend AS (SELECT c.customer_id, coalesce(sum(t.amount), 0) AS spend
                       FROM customers c LEFT JOIN transactions t
                            ON t.customer_id = c.customer_id AND t.order_ts < DATE '2024-01-01'
                       WHERE c.signup_ts < DATE '2024-01-01' GROUP BY c.customer_id),
        ranked AS (SELECT customer_id, spend,
                          sum(spend) FILTER (spend > 0) OVER (ORDER BY spend DESC
                              RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
                          - sum(spend) OVER (PARTITION BY spend) AS above,
                          sum(spend) FILTER (spend > 0) OVER () AS positive
                   FROM spend),
        tiered AS (SELECT customer_id, spend, CASE WHEN spend <= 0 THEN 'zero'
                          WHEN above / positive < 0.5 THEN 'high'
                          WHEN above / positive < 0.8 THEN 'medium' ELSE 'low' END AS tier,
                          row_number() OVER (ORDER BY spend DESC, customer_id) AS rk,
                          count(*) OVER () AS n, sum(spend) OVER () AS grand
                   FROM ranked),
        cum AS (SELECT *, sum(spend) OVER (ORDER BY rk ROWS UNBOUNDED PRECEDING) AS running,
                       CAST(ceil(100 * rk / n) AS INT) AS pct
                FROM tiered)
        SELECT pct AS percentile, count(*) AS customers, sum(spend) AS revenue,
               max(rk) / max(n) AS cumulative_customer_share,
               arg_max(running, rk) / max(grand) AS cumulative_revenue_share,
               arg_min(tier, rk) AS tier
        FROM cum GROUP BY pct ORDER BY pct""",
    # Profiles and overlap as of 2024-01-01.
    "segment_overlap": f"""
        WITH {SEGMENTS}, {stages_at('2024-01-01', 'st', '2024-01-01')},
        spend AS (SELECT c.customer_id, coalesce(sum(t.amount), 0) AS spend
                  FROM customers c LEFT JOIN transactions t
                       ON t.customer_id = c.customer_id AND t.order_ts < DATE '2024-01-01'
                  WHERE c.signup_ts < DATE '2024-01-01' GROUP BY c.customer_id),
        ranked AS (SELECT customer_id, spend,
                          sum(spend) FILTER (spend > 0) OVER (ORDER BY spend DESC
                              RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
                          - sum(spend) OVER (PARTITION BY spend) AS above,
                          sum(spend) FILTER (spend > 0) OVER () AS total
                   FROM spend),
        tiers AS (SELECT customer_id, CASE WHEN spend <= 0 THEN 'zero'
                         WHEN above / total < 0.5 THEN 'high' WHEN above / total < 0.8 THEN 'medium'
                         ELSE 'low' END AS tier FROM ranked),
        p AS (SELECT segs.segment, st.stage, tiers.tier FROM segs JOIN st USING (customer_id)
              JOIN tiers USING (customer_id))
        SELECT segment, stage, tier, count(*) AS customers, count(*) / sum(count(*)) OVER () AS share,
               count(*) / sum(count(*)) OVER (PARTITION BY segment) AS segment_share
        FROM p GROUP BY segment, stage, tier ORDER BY segment, stage, tier""",
    "demographic_profile": f"""
        WITH {SEGMENTS},
        d AS (SELECT segment, 2024 - birth_year AS age, gender, income_band
              FROM segs JOIN customers USING (customer_id)),
        l AS (SELECT segment, 'age_band' AS dimension,
                     CASE WHEN age < 25 THEN 'under 25' WHEN age >= 65 THEN '65 and over'
                          ELSE CAST((age + 5) // 10 * 10 - 5 AS VARCHAR) END AS value
              FROM d
              UNION ALL SELECT segment, 'gender', gender FROM d
              UNION ALL SELECT segment, 'income_band', income_band FROM d),
        bands AS (SELECT segment, dimension,
                         CASE WHEN dimension = 'age_band' AND value NOT IN ('under 25', '65 and over')
                              THEN value || '-' || CAST(CAST(value AS INT) + 9 AS VARCHAR) ELSE value END AS value
                  FROM l)
        SELECT segment, dimension, value, count(*) AS customers,
               count(*) / sum(count(*)) OVER (PARTITION BY segment, dimension) AS segment_share
        FROM bands GROUP BY segment, dimension, value ORDER BY segment, dimension, value""",
    "geographic_profile": f"""
        WITH {SEGMENTS},
        m AS (SELECT customer_id, sum(amount) AS revenue FROM transactions WHERE order_ts {WINDOW}
              GROUP BY customer_id),
        g AS (SELECT c.region, s.segment, count(*) AS customers, coalesce(sum(m.revenue), 0) AS revenue
              FROM segs s JOIN customers c USING (customer_id) LEFT JOIN m USING (customer_id)
              GROUP BY c.region, s.segment)
        SELECT region, segment, customers, customers / sum(customers) OVER (PARTITION BY region) AS region_share,
               revenue, revenue / sum(revenue) OVER () AS revenue_share
        FROM g ORDER BY region, segment""",
    "psychographic_profile": f"""
        WITH {SEGMENTS},
        latest AS (SELECT customer_id, arg_max(lifestyle, (survey_ts, lifestyle, "values", benefit_sought)) AS lifestyle,
                          arg_max("values", (survey_ts, lifestyle, "values", benefit_sought)) AS "values",
                          arg_max(benefit_sought, (survey_ts, lifestyle, "values", benefit_sought)) AS benefit_sought
                   FROM surveys WHERE survey_ts < DATE '2024-01-01' GROUP BY customer_id),
        l AS (SELECT segment, 'lifestyle' AS dimension, lifestyle AS value FROM latest JOIN segs USING (customer_id)
              UNION ALL SELECT segment, 'values', "values" FROM latest JOIN segs USING (customer_id)
              UNION ALL SELECT segment, 'benefit_sought', benefit_sought FROM latest JOIN segs USING (customer_id))
        SELECT segment, dimension, value, count(*) AS respondents,
               count(*) / sum(count(*)) OVER (PARTITION BY segment, dimension) AS segment_share
        FROM l WHERE value IS NOT NULL GROUP BY segment, dimension, value ORDER BY segment, dimension, value""",
    # Segment trend: monthly snapshots over 2023.
    "segment_trend": """
        WITH months AS (SELECT CAST(m AS DATE) AS month
                        FROM range(TIMESTAMP '2023-01-01', TIMESTAMP '2024-01-01', INTERVAL 1 MONTH) t(m)),
        h AS (SELECT month, customer_id,
                     month - CAST(max(order_ts) FILTER (amount >= 0) AS DATE) AS recency_days,
                     count(*) FILTER (amount >= 0) AS frequency
              FROM months JOIN transactions ON order_ts < month GROUP BY month, customer_id),
        sc AS (SELECT month, customer_id,
                      CAST(CEIL(5 * CUME_DIST() OVER (PARTITION BY month ORDER BY recency_days DESC)) AS INT) AS r,
                      CAST(CEIL(5 * CUME_DIST() OVER (PARTITION BY month ORDER BY frequency)) AS INT) AS f
               FROM h WHERE frequency > 0),
        sg AS (SELECT month, customer_id, CASE
                   WHEN r <= 2 AND f <= 2 THEN 'hibernating' WHEN r <= 2 AND f <= 4 THEN 'at_risk'
                   WHEN r <= 2 THEN 'cant_lose' WHEN r = 3 AND f <= 2 THEN 'about_to_sleep'
                   WHEN r = 3 AND f = 3 THEN 'need_attention' WHEN r <= 4 AND f >= 4 THEN 'loyal'
                   WHEN r = 4 AND f = 1 THEN 'promising' WHEN r = 5 AND f = 1 THEN 'new'
                   WHEN f <= 3 THEN 'potential_loyalists' ELSE 'champions' END AS segment
               FROM sc),
        rv AS (SELECT CAST(date_trunc('month', order_ts) AS DATE) AS month, customer_id, sum(amount) AS revenue
               FROM transactions WHERE order_ts >= DATE '2023-01-01' AND order_ts < DATE '2024-01-01'
               GROUP BY ALL),
        g AS (SELECT sg.month, sg.segment, count(*) AS customers, coalesce(sum(rv.revenue), 0) AS revenue
              FROM sg LEFT JOIN rv USING (month, customer_id) GROUP BY sg.month, sg.segment)
        SELECT month, segment, customers, customers / sum(customers) OVER (PARTITION BY month) AS customer_share,
               revenue, revenue / sum(revenue) OVER (PARTITION BY month) AS revenue_share
        FROM g ORDER BY month, segment""",
    # The standard map's cells (its R x F rules: M plays no part, so one segment per cell).
    "rfm_grid": """
        WITH g AS (
          SELECT DATE '2024-01-01' - CAST(max(order_ts) FILTER (amount >= 0) AS DATE) AS recency_days,
                 count(*) FILTER (amount >= 0) AS frequency, sum(amount) AS monetary
          FROM transactions WHERE order_ts < DATE '2024-01-01' GROUP BY customer_id
          HAVING count(*) FILTER (amount >= 0) > 0),
        scored AS (
          SELECT monetary, CAST(CEIL(5 * CUME_DIST() OVER (ORDER BY recency_days DESC)) AS INT) AS r,
                 CAST(CEIL(5 * CUME_DIST() OVER (ORDER BY frequency)) AS INT) AS f
          FROM g),
        cells AS (SELECT CAST(r.range AS INT) AS r, CAST(f.range AS INT) AS f
                  FROM range(1, 6) r CROSS JOIN range(1, 6) f),
        rules(segment, rule, r_low, r_high, f_low, f_high) AS (VALUES
          ('hibernating', 'r 1-2, f 1-2', 1, 2, 1, 2), ('at_risk', 'r 1-2, f 3-4', 1, 2, 3, 4),
          ('cant_lose', 'r 1-2, f 5', 1, 2, 5, 5), ('about_to_sleep', 'r 3, f 1-2', 3, 3, 1, 2),
          ('need_attention', 'r 3, f 3', 3, 3, 3, 3), ('loyal', 'r 3-4, f 4-5', 3, 4, 4, 5),
          ('promising', 'r 4, f 1', 4, 4, 1, 1), ('new', 'r 5, f 1', 5, 5, 1, 1),
          ('potential_loyalists', 'r 4-5, f 2-3', 4, 5, 2, 3), ('champions', 'r 5, f 4-5', 5, 5, 4, 5)),
        labelled AS (SELECT c.r, c.f, u.segment, u.rule FROM cells c
                     JOIN rules u ON c.r BETWEEN u.r_low AND u.r_high AND c.f BETWEEN u.f_low AND u.f_high)
        SELECT l.r AS r_score, l.f AS f_score, l.segment, l.rule, 1 AS segments,
               count(s.r) AS customers, coalesce(sum(s.monetary), 0.0) AS revenue,
               sum(s.monetary) / count(s.r) AS mean_monetary, 0 AS unassigned
        FROM labelled l LEFT JOIN scored s ON s.r = l.r AND s.f = l.f
        GROUP BY ALL ORDER BY r_score DESC, f_score""",
    # lifetimes' per-customer CLV by segment (segments of the purchases up to and including
    # as_of, as cltv_by_segment has them), exact quantiles.
    "cltv_distribution": f"""
        WITH {segments_at('2024-01-02', 'cs')}
        SELECT segment, count(*) AS customers, min(cltv) AS min_cltv,
               quantile_cont(cltv, 0.05) AS p05_cltv, quantile_cont(cltv, 0.25) AS p25_cltv,
               quantile_cont(cltv, 0.5) AS median_cltv, quantile_cont(cltv, 0.75) AS p75_cltv,
               quantile_cont(cltv, 0.95) AS p95_cltv, max(cltv) AS max_cltv, avg(cltv) AS mean_cltv,
               sum(cltv) AS total_cltv
        FROM cs JOIN lifetimes_clv_as_of USING (customer_id)
        GROUP BY segment ORDER BY median_cltv DESC, segment""",
    "alive_matrix": "SELECT * FROM lifetimes_matrix ORDER BY frequency, recency",
}


def lifetimes_matrix(con):
    """P(alive) and expected purchases in the next week over alive_matrix's grid (30 steps),
    from lifetimes' BetaGeoFitter on the weekly summary as of 2024-01-01: frequencies
    round(i * max_frequency / 29) (distinct), recencies i * max_T / 29, T = max_T, cells with
    frequency 0 exactly where recency is 0."""
    import numpy as np
    import pandas as pd
    from lifetimes import BetaGeoFitter

    s = lifetimes_summary(con, "2024-01-01", every_row=True)
    bgf = BetaGeoFitter().fit(s["frequency"], s["recency"], s["T"])
    steps = np.arange(30)
    max_f, max_t = s["frequency"].max(), s["T"].max()
    frequencies = sorted(set(np.round(steps * max_f / 29)))
    rows = [(f, r) for f in frequencies for r in steps * max_t / 29 if (f == 0) == (r == 0)]
    f = np.array([row[0] for row in rows], dtype=float)
    r = np.array([row[1] for row in rows], dtype=float)
    t = np.full(len(rows), float(max_t))
    return pd.DataFrame({
        "frequency": f, "recency": r, "t": t,
        "p_alive": bgf.conditional_probability_alive(f, r, t),
        "expected_purchases": bgf.conditional_expected_number_of_purchases_up_to_time(1.0, f, r, t),
    })


def lifetimes_summary(con, end="2023-12-31", every_row=False):
    """lifetimes' weekly summary as of the day `end`: of the purchases before the day after it,
    as kpi_dashboard gives btyd_summary; with `every_row`, of every transaction row (returns
    included, and rows after `end`, which lifetimes drops itself beyond the week holding
    `end`), as the CLV queries give btyd_summary."""
    from lifetimes.utils import summary_data_from_transaction_data

    kept = "TRUE" if every_row else f"amount >= 0 AND order_ts < DATE '{end}' + INTERVAL 1 DAY"
    tx = con.execute(f"SELECT customer_id, order_ts, amount FROM transactions WHERE {kept}").df()
    return summary_data_from_transaction_data(tx, "customer_id", "order_ts", monetary_value_col="amount",
                                              observation_period_end=end, freq="W")


def lifetimes_clv(con, end="2023-12-31", every_row=False):
    """12-month CLV per customer (monthly discount 0.01, weeks) with lifetimes 0.11.3: summary of
    the purchases before 2024-01-01 by week, BetaGeoFitter and GammaGammaFitter fits (the
    latter on customers with repeat purchases and positive spend), customer_lifetime_value."""
    from lifetimes import BetaGeoFitter, GammaGammaFitter

    s = lifetimes_summary(con, end, every_row)
    bgf = BetaGeoFitter().fit(s["frequency"], s["recency"], s["T"])
    spenders = s[(s["frequency"] > 0) & (s["monetary_value"] > 0)]
    ggf = GammaGammaFitter().fit(spenders["frequency"], spenders["monetary_value"])
    clv = ggf.customer_lifetime_value(bgf, s["frequency"], s["recency"], s["T"], s["monetary_value"],
                                      time=12, discount_rate=0.01, freq="W")
    return clv.rename("cltv").reset_index().rename(columns={"index": "customer_id"})


def sklearn_clusters(con):
    """k-means clusters (k = 4) of the customers with a purchase before 2024-01-01: features
    ln(1 + recency_days), ln(1 + frequency), ln(1 + max(monetary, 0)) (purchases for recency and
    frequency, all rows for monetary), standardized; clusters numbered 1.. by size, largest
    first."""
    import numpy as np
    from sklearn.cluster import KMeans
    from sklearn.preprocessing import StandardScaler

    rfm = con.execute("""
        SELECT customer_id,
               DATE '2024-01-01' - CAST(max(order_ts) FILTER (amount >= 0) AS DATE) AS recency_days,
               count(*) FILTER (amount >= 0) AS frequency, sum(amount) AS monetary
        FROM transactions WHERE order_ts < DATE '2024-01-01' GROUP BY customer_id
        HAVING count(*) FILTER (amount >= 0) > 0 ORDER BY customer_id""").df()
    raw = np.column_stack([np.log1p(rfm["recency_days"].astype(float)),
                           np.log1p(rfm["frequency"].astype(float)),
                           np.log1p(rfm["monetary"].clip(lower=0).astype(float))])
    labels = KMeans(n_clusters=4, n_init=10, random_state=0).fit(StandardScaler().fit_transform(raw)).labels_
    sizes = np.bincount(labels)
    number = {label: i + 1 for i, label in enumerate(sorted(range(len(sizes)), key=lambda l: -sizes[l]))}
    return rfm[["customer_id"]].assign(cluster=[number[l] for l in labels])


def main():
    lake = sys.argv[1]
    con = duckdb.connect()
    for table in ["customers", "transactions", "events", "campaigns", "campaign_contacts", "surveys"]:
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{lake}/{table}/*.parquet')")
    clv = lifetimes_clv(con)
    con.register("lifetimes_clv", clv)
    con.register("sklearn_clusters", sklearn_clusters(con))
    con.register("lifetimes_matrix", lifetimes_matrix(con))
    # The CLV queries give btyd_summary every transaction row and as_of 2024-01-01.
    con.register("lifetimes_clv_as_of", lifetimes_clv(con, "2024-01-01", every_row=True))
    out = os.path.join(HERE, "library")
    os.makedirs(out, exist_ok=True)
    for name, sql in QUERIES.items():
        try:
            con.execute(f"COPY ({sql}) TO '{out}/{name}.csv' (HEADER)")
        except duckdb.Error as e:
            sys.exit(f"{name}: {e}")


if __name__ == "__main__":
    main()
