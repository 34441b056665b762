-- name: rfm_segments
-- description: RFM values, scores, code and named segment per customer as of a date (any segment map)
-- param: as_of DATE = '2024-01-01'
-- param: transactions TABLE = transactions
-- param: map TEXT = 'standard'
--
-- Customers with no purchase before as_of (only refunds, or none yet) are left out: they have
-- no recency to score. Segments come from the segment map `map`: the standard 10-segment R-F map
-- by default, or any other (`seglake maps list`); scores have as many bins as the map.
WITH customer_rfm AS (
  SELECT customer_id, rfm(order_ts, amount, $as_of) AS v
  FROM transactions
  GROUP BY customer_id
), scored AS (
  SELECT customer_id, v,
         rfm_score(v['recency_days'], v['frequency'], v['monetary'], segment_map_bins($map)) OVER () AS s
  FROM customer_rfm
  WHERE v['frequency'] > 0
)
SELECT customer_id,
       v['recency_days'] AS recency_days,
       v['frequency'] AS frequency,
       v['monetary'] AS monetary,
       v['avg_order_value'] AS avg_order_value,
       v['first_purchase'] AS first_purchase,
       v['last_purchase'] AS last_purchase,
       s['r'] AS r,
       s['f'] AS f,
       s['m'] AS m,
       s['code'] AS rfm_code,
       rfm_segment(s['r'], s['f'], s['m'], $map) AS segment
FROM scored
ORDER BY customer_id
