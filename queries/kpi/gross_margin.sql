-- name: gross_margin
-- description: Gross margin (revenue - cost) / revenue by month and category, net of refunds
-- param: period_start DATE = '2023-01-01'
-- param: period_end DATE = '2024-01-01'
-- param: transactions TABLE = transactions
--
-- Revenue and cost are summed with refunds (negative amount and cost) included, over
-- [period_start, period_end). One row per month and category, then one per month with
-- category 'all'.
WITH lines AS (
  SELECT CAST(date_trunc('month', order_ts) AS DATE) AS month, category, amount, cost
  FROM transactions
  WHERE order_ts >= $period_start AND order_ts < $period_end
), by_category AS (
  SELECT month, category, sum(amount) AS revenue, sum(cost) AS cost
  FROM lines GROUP BY month, category
  UNION ALL
  SELECT month, 'all' AS category, sum(amount) AS revenue, sum(cost) AS cost
  FROM lines GROUP BY month
)
SELECT month, category, revenue, cost, revenue - cost AS gross_profit,
       (revenue - cost) / revenue AS gross_margin
FROM by_category
ORDER BY month, category = 'all', category
