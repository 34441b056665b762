-- name: churn_rate
-- description: Churn and retention over a period: customers active at its start who did not buy in it
-- param: period_start DATE = '2023-01-01'
-- param: period_end DATE = '2024-01-01'
-- param: active_days INT = 365
-- param: transactions TABLE = transactions
--
-- Active at the start: a purchase (amount >= 0) in the active_days before period_start.
-- Churned: active at the start and no purchase in [period_start, period_end). New buyers of the
-- period are not in the base, so they neither churn nor retain.
WITH active AS (
  SELECT DISTINCT customer_id
  FROM transactions
  WHERE amount >= 0
    AND order_ts < $period_start
    AND order_ts >= CAST(CAST($period_start AS DATE) - $active_days AS TIMESTAMP)
), bought AS (
  SELECT DISTINCT customer_id
  FROM transactions
  WHERE amount >= 0 AND order_ts >= $period_start AND order_ts < $period_end
), base AS (
  SELECT a.customer_id, b.customer_id IS NOT NULL AS retained
  FROM active a LEFT JOIN bought b USING (customer_id)
)
SELECT $period_start AS period_start,
       $period_end AS period_end,
       count(*) AS active_at_start,
       count(*) FILTER (WHERE retained) AS retained,
       count(*) FILTER (WHERE NOT retained) AS churned,
       CAST(count(*) FILTER (WHERE NOT retained) AS DOUBLE) / count(*) AS churn_rate,
       CAST(count(*) FILTER (WHERE retained) AS DOUBLE) / count(*) AS retention_rate
FROM base
