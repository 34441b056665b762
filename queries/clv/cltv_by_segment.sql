-- name: cltv_by_segment
-- description: CLV totals and means per RFM segment (BG/NBD and Gamma-Gamma, discounted)
-- param: as_of DATE = '2024-01-01'
-- param: period TEXT = 'week'
-- param: months INT = 12
-- param: discount_rate DOUBLE = 0.01
-- param: transactions TABLE = transactions
-- param: map TEXT = 'standard'
--
-- Segments are rfm_segments' (standard R-F map, scores as of the day after the last summary
-- day, so purchases on as_of count for both). Customers without a purchase before that day
-- have no segment and are left out.
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
), values AS (
  SELECT customer_id,
         cltv(bg, gg, frequency, recency, t, monetary_value,
              named_struct('months', $months, 'discount_rate', $discount_rate,
                           'period', $period)) AS cltv
  FROM customers CROSS JOIN models
), customer_rfm AS (
  SELECT customer_id, rfm(order_ts, amount, CAST($as_of AS TIMESTAMP) + INTERVAL '1 day') AS v
  FROM transactions
  GROUP BY customer_id
), segments AS (
  SELECT customer_id,
         rfm_segment(s['r'], s['f'], s['m'], $map) AS segment
  FROM (SELECT customer_id,
               rfm_score(v['recency_days'], v['frequency'], v['monetary'], segment_map_bins($map)) OVER () AS s
        FROM customer_rfm
        WHERE v['frequency'] > 0)
)
SELECT segment,
       count(*) AS customers,
       sum(cltv) AS total_cltv,
       avg(cltv) AS mean_cltv,
       sum(cltv) / sum(sum(cltv)) OVER () AS cltv_share
FROM segments JOIN values USING (customer_id)
GROUP BY segment
ORDER BY total_cltv DESC, segment
