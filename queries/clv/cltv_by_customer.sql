-- name: cltv_by_customer
-- description: Per customer: BG/NBD P(alive), expected purchases in the next days, Gamma-Gamma expected spend and discounted CLV
-- param: as_of DATE = '2024-01-01'
-- param: period TEXT = 'week'
-- param: horizon_days INT = 90
-- param: months INT = 12
-- param: discount_rate DOUBLE = 0.01
-- param: transactions TABLE = transactions
--
-- The models are fitted on every customer with a purchase up to and including as_of (summary
-- in periods of `period`: day, week or month); CLV is lifetimes' customer_lifetime_value over
-- `months` months with a monthly discount rate. expected_purchases covers horizon_days days.
WITH summary AS (
  SELECT customer_id, btyd_summary(order_ts, amount, $as_of, $period) AS s
  FROM transactions
  GROUP BY customer_id
), customers AS (
  SELECT customer_id, s['frequency'] AS frequency, s['recency'] AS recency, s['T'] AS t,
         s['monetary_value'] AS monetary_value
  FROM summary
  WHERE s IS NOT NULL
), models AS (
  SELECT bgnbd_fit(frequency, recency, t) AS bg,
         gammagamma_fit(frequency, monetary_value) AS gg
  FROM customers
)
SELECT customer_id, frequency, recency, t AS "T", monetary_value,
       p_alive(bg, frequency, recency, t) AS p_alive,
       expected_purchases(bg,
         $horizon_days / CASE $period WHEN 'day' THEN 1.0 WHEN 'week' THEN 7.0
                                      ELSE 30.436875 END,
         frequency, recency, t) AS expected_purchases,
       expected_spend(gg, frequency, monetary_value) AS expected_spend,
       cltv(bg, gg, frequency, recency, t, monetary_value,
            named_struct('months', $months, 'discount_rate', $discount_rate,
                         'period', $period)) AS cltv
FROM customers CROSS JOIN models
ORDER BY customer_id
