-- name: retention
-- description: Monthly acquisition cohorts x months since first purchase: active customers and retention rate
-- param: as_of DATE = '2024-01-01'
-- param: max_months INT = 12
-- param: transactions TABLE = transactions
--
-- A customer's cohort is the calendar month of their first purchase before as_of (refunds are
-- not purchases). Month m of a cohort is the m-th calendar month after it (m = 0 is the cohort
-- month itself, retention 1); a customer is active in it with at least one purchase then.
-- Every cohort gets a row for each m up to max_months whose month has started before as_of,
-- with 0 active customers where nobody bought, so the result is the full retention triangle.
WITH purchases AS (
  SELECT customer_id,
         date_part('year', order_ts) * 12 + date_part('month', order_ts) - 1 AS month_index
  FROM transactions
  WHERE amount >= 0 AND order_ts < $as_of
), cohorts AS (
  SELECT customer_id, min(month_index) AS cohort_index
  FROM purchases
  GROUP BY customer_id
), sizes AS (
  SELECT cohort_index, count(*) AS cohort_customers
  FROM cohorts
  GROUP BY cohort_index
), active AS (
  SELECT c.cohort_index, p.month_index - c.cohort_index AS months_since,
         count(DISTINCT p.customer_id) AS active_customers
  FROM purchases p JOIN cohorts c USING (customer_id)
  GROUP BY c.cohort_index, p.month_index - c.cohort_index
), grid AS (
  SELECT s.cohort_index, s.cohort_customers, m AS months_since
  FROM sizes s
  CROSS JOIN (SELECT unnest(range(0, $max_months + 1)) AS m)
  WHERE s.cohort_index + m
        <= date_part('year', CAST($as_of AS TIMESTAMP) - INTERVAL '1 day') * 12
           + date_part('month', CAST($as_of AS TIMESTAMP) - INTERVAL '1 day') - 1
)
SELECT make_date(CAST(g.cohort_index / 12 AS INT), CAST(g.cohort_index % 12 + 1 AS INT), 1) AS cohort,
       g.cohort_customers,
       CAST(g.months_since AS BIGINT) AS months_since,
       coalesce(a.active_customers, 0) AS active_customers,
       CAST(coalesce(a.active_customers, 0) AS DOUBLE) / g.cohort_customers AS retention_rate
FROM grid g
LEFT JOIN active a ON a.cohort_index = g.cohort_index AND a.months_since = g.months_since
ORDER BY cohort, months_since
