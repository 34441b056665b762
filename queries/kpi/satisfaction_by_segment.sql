-- name: satisfaction_by_segment
-- description: Mean satisfaction (1-5) and share satisfied (4-5) per RFM segment, from the year before as_of
-- param: as_of DATE = '2024-01-01'
-- param: window_days INT = 365
-- param: customers TABLE = customers
-- param: transactions TABLE = transactions
-- param: surveys TABLE = surveys
-- param: map TEXT = 'standard'
--
-- Segments are rfm_segments' as of as_of; customers without a purchase before it are
-- 'no_purchase'. Answers from [as_of - window_days, as_of); NULL satisfaction is not counted.
WITH customer_rfm AS (
  SELECT customer_id, rfm(order_ts, amount, $as_of) AS v
  FROM transactions
  GROUP BY customer_id
), scored AS (
  SELECT customer_id,
         rfm_score(v['recency_days'], v['frequency'], v['monetary'], segment_map_bins($map)) OVER () AS s
  FROM customer_rfm
  WHERE v['frequency'] > 0
), segments AS (
  SELECT c.customer_id, coalesce(rfm_segment(s['r'], s['f'], s['m'], $map), 'no_purchase') AS segment
  FROM customers c LEFT JOIN scored USING (customer_id)
  WHERE c.signup_ts < $as_of
)
SELECT g.segment,
       count(v.satisfaction) AS responses,
       avg(v.satisfaction) AS mean_satisfaction,
       CAST(count(*) FILTER (WHERE v.satisfaction >= 4) AS DOUBLE) / count(v.satisfaction)
         AS satisfied_share
FROM surveys v JOIN segments g USING (customer_id)
WHERE v.survey_ts < $as_of
  AND v.survey_ts >= CAST(CAST($as_of AS DATE) - $window_days AS TIMESTAMP)
GROUP BY g.segment
ORDER BY mean_satisfaction DESC, g.segment
