-- name: cltv_distribution
-- description: How CLV is spread within each RFM segment: quantiles (5%, 25%, median, 75%, 95%), min, max, mean and total per segment
-- param: as_of DATE = '2024-01-01'
-- param: period TEXT = 'week'
-- param: months INT = 12
-- param: discount_rate DOUBLE = 0.01
-- param: transactions TABLE = transactions
-- param: map TEXT = 'standard'
--
-- CLV per customer and segments exactly as in cltv_by_segment (BG/NBD and Gamma-Gamma fitted on
-- the customers' summaries as of as_of, discounted over `months`); the quantiles are exact
-- (percentile_cont, interpolated between neighbours), the data of a box plot per segment.
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
       min(cltv) AS min_cltv,
       percentile_cont(0.05) WITHIN GROUP (ORDER BY cltv) AS p05_cltv,
       percentile_cont(0.25) WITHIN GROUP (ORDER BY cltv) AS p25_cltv,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY cltv) AS median_cltv,
       percentile_cont(0.75) WITHIN GROUP (ORDER BY cltv) AS p75_cltv,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY cltv) AS p95_cltv,
       max(cltv) AS max_cltv,
       avg(cltv) AS mean_cltv,
       sum(cltv) AS total_cltv
FROM segments JOIN values USING (customer_id)
GROUP BY segment
ORDER BY median_cltv DESC, segment
