-- name: value_tiers
-- description: Customers and revenue per value tier (high, medium, low by cumulative revenue share; zero) as of a date
-- param: as_of DATE = '2024-01-01'
-- param: high_share DOUBLE = 0.5
-- param: medium_share DOUBLE = 0.8
-- param: customers TABLE = customers
-- param: transactions TABLE = transactions
--
-- Spend is all purchases before as_of net of refunds; customers who signed up before as_of
-- without spend are in the zero tier (see `\h value_tier`).
WITH spend AS (
  SELECT c.customer_id, coalesce(t.spend, 0.0) AS spend
  FROM customers c
  LEFT JOIN (SELECT customer_id, sum(amount) AS spend
             FROM transactions
             WHERE order_ts < $as_of
             GROUP BY customer_id) t USING (customer_id)
  WHERE c.signup_ts < $as_of
), tiered AS (
  SELECT spend, value_tier(spend, $high_share, $medium_share) OVER () AS tier
  FROM spend
)
SELECT tier,
       count(*) AS customers,
       CAST(count(*) AS DOUBLE) / sum(count(*)) OVER () AS customer_share,
       sum(spend) AS revenue,
       sum(spend) / sum(sum(spend)) OVER () AS revenue_share
FROM tiered
GROUP BY tier
ORDER BY array_position(['high', 'medium', 'low', 'zero'], tier)
