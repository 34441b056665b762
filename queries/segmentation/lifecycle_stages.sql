-- name: lifecycle_stages
-- description: Customers per lifecycle stage as of a date (prospect, new, loyal, active, at_risk, churned)
-- param: as_of DATE = '2024-01-01'
-- param: customers TABLE = customers
-- param: transactions TABLE = transactions
--
-- Customers who signed up before as_of; purchases and spend of the 365 days before as_of decide
-- loyal (see `\h lifecycle_stage` for the rules and default thresholds).
WITH history AS (
  SELECT customer_id, rfm(order_ts, amount, $as_of) AS v
  FROM transactions
  GROUP BY customer_id
), last_year AS (
  SELECT customer_id, v['frequency'] AS purchases, v['monetary'] AS spend
  FROM (SELECT customer_id, rfm(order_ts, amount, $as_of) AS v
        FROM transactions
        WHERE CAST(order_ts AS DATE) >= CAST($as_of AS DATE) - INTERVAL '365 days'
        GROUP BY customer_id)
), staged AS (
  SELECT lifecycle_stage(h.v['first_purchase'], h.v['last_purchase'], y.purchases, y.spend, $as_of)
           AS stage
  FROM customers c
  LEFT JOIN history h USING (customer_id)
  LEFT JOIN last_year y USING (customer_id)
  WHERE CAST(c.signup_ts AS DATE) < CAST($as_of AS DATE)
)
SELECT stage,
       count(*) AS customers,
       CAST(count(*) AS DOUBLE) / sum(count(*)) OVER () AS share
FROM staged
GROUP BY stage
ORDER BY CASE stage WHEN 'prospect' THEN 1 WHEN 'new' THEN 2 WHEN 'active' THEN 3
                    WHEN 'loyal' THEN 4 WHEN 'at_risk' THEN 5 ELSE 6 END
