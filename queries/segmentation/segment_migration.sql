-- name: segment_migration
-- description: How customers moved between RFM segments from one date to another (transition counts and shares)
-- param: from_date DATE = '2023-07-01'
-- param: to_date DATE = '2024-01-01'
-- param: customers TABLE = customers
-- param: transactions TABLE = transactions
-- param: map TEXT = 'standard'
--
-- Segments are rfm_segments' at each date (standard map, quintiles among the customers with a
-- purchase before that date); customers signed up before to_date without a purchase before a
-- date are 'no_purchase' at it. share is the part of from_segment's customers that went to
-- to_segment; every from_segment's shares add up to 1.
WITH
rfm_from AS (
  SELECT customer_id, rfm(order_ts, amount, $from_date) AS v
  FROM transactions
  GROUP BY customer_id
), segment_from AS (
  SELECT customer_id,
         rfm_segment(s['r'], s['f'], s['m'], $map) AS segment
  FROM (SELECT customer_id,
               rfm_score(v['recency_days'], v['frequency'], v['monetary'], segment_map_bins($map)) OVER () AS s
        FROM rfm_from
        WHERE v['frequency'] > 0)
)
, 
rfm_to AS (
  SELECT customer_id, rfm(order_ts, amount, $to_date) AS v
  FROM transactions
  GROUP BY customer_id
), segment_to AS (
  SELECT customer_id,
         rfm_segment(s['r'], s['f'], s['m'], $map) AS segment
  FROM (SELECT customer_id,
               rfm_score(v['recency_days'], v['frequency'], v['monetary'], segment_map_bins($map)) OVER () AS s
        FROM rfm_to
        WHERE v['frequency'] > 0)
)
, moves AS (
  SELECT coalesce(f.segment, 'no_purchase') AS from_segment,
         coalesce(t.segment, 'no_purchase') AS to_segment
  FROM customers c
  LEFT JOIN segment_from f USING (customer_id)
  LEFT JOIN segment_to t USING (customer_id)
  WHERE c.signup_ts < $to_date
)
SELECT from_segment, to_segment,
       count(*) AS customers,
       CAST(count(*) AS DOUBLE) / sum(count(*)) OVER (PARTITION BY from_segment) AS share
FROM moves
GROUP BY from_segment, to_segment
ORDER BY from_segment, to_segment
