-- name: lifecycle_migration
-- description: Lifecycle stage transition matrix between two dates (counts and shares)
-- param: from_date DATE = '2023-07-01'
-- param: to_date DATE = '2024-01-01'
-- param: customers TABLE = customers
-- param: transactions TABLE = transactions
--
-- Stages as lifecycle_stages computes them at each date (see `\h lifecycle_stage`); customers
-- signed up before to_date but not before from_date start as 'not_signed_up'. share is the
-- part of from_stage's customers that went to to_stage.
WITH
history_from AS (
  SELECT customer_id, rfm(order_ts, amount, $from_date) AS v
  FROM transactions
  GROUP BY customer_id
), last_year_from AS (
  SELECT customer_id, v['frequency'] AS purchases, v['monetary'] AS spend
  FROM (SELECT customer_id, rfm(order_ts, amount, $from_date) AS v
        FROM transactions
        WHERE CAST(order_ts AS DATE) >= CAST($from_date AS DATE) - INTERVAL '365 days'
        GROUP BY customer_id)
), stage_from AS (
  SELECT c.customer_id,
         CASE WHEN c.signup_ts < $from_date
              THEN lifecycle_stage(h.v['first_purchase'], h.v['last_purchase'], y.purchases,
                                   y.spend, $from_date)
              ELSE 'not_signed_up' END AS stage
  FROM customers c
  LEFT JOIN history_from h USING (customer_id)
  LEFT JOIN last_year_from y USING (customer_id)
  WHERE c.signup_ts < $to_date
)
, 
history_to AS (
  SELECT customer_id, rfm(order_ts, amount, $to_date) AS v
  FROM transactions
  GROUP BY customer_id
), last_year_to AS (
  SELECT customer_id, v['frequency'] AS purchases, v['monetary'] AS spend
  FROM (SELECT customer_id, rfm(order_ts, amount, $to_date) AS v
        FROM transactions
        WHERE CAST(order_ts AS DATE) >= CAST($to_date AS DATE) - INTERVAL '365 days'
        GROUP BY customer_id)
), stage_to AS (
  SELECT c.customer_id,
         CASE WHEN c.signup_ts < $to_date
              THEN lifecycle_stage(h.v['first_purchase'], h.v['last_purchase'], y.purchases,
                                   y.spend, $to_date)
              ELSE 'not_signed_up' END AS stage
  FROM customers c
  LEFT JOIN history_to h USING (customer_id)
  LEFT JOIN last_year_to y USING (customer_id)
  WHERE c.signup_ts < $to_date
)
, moves AS (
  SELECT f.stage AS from_stage, t.stage AS to_stage
  FROM stage_from f JOIN stage_to t USING (customer_id)
)
SELECT from_stage, to_stage,
       count(*) AS customers,
       CAST(count(*) AS DOUBLE) / sum(count(*)) OVER (PARTITION BY from_stage) AS share
FROM moves
GROUP BY from_stage, to_stage
ORDER BY array_position(['not_signed_up', 'prospect', 'new', 'active', 'loyal', 'at_risk', 'churned'], from_stage),
         array_position(['not_signed_up', 'prospect', 'new', 'active', 'loyal', 'at_risk', 'churned'], to_stage)
