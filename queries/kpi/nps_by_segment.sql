-- name: nps_by_segment
-- description: Net promoter score per RFM segment from the survey answers of the year before as_of
-- param: as_of DATE = '2024-01-01'
-- param: window_days INT = 365
-- param: customers TABLE = customers
-- param: transactions TABLE = transactions
-- param: surveys TABLE = surveys
-- param: map TEXT = 'standard'
--
-- Segments are rfm_segments' as of as_of (standard map); customers without a purchase before
-- it are 'no_purchase'. Answers from [as_of - window_days, as_of) count, each answer once.
-- NPS = % promoters (9-10) - % detractors (0-6), from -100 to 100.
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
       count(*) AS responses,
       count(*) FILTER (WHERE v.nps >= 9) AS promoters,
       count(*) FILTER (WHERE v.nps BETWEEN 7 AND 8) AS passives,
       count(*) FILTER (WHERE v.nps <= 6) AS detractors,
       nps(v.nps) AS nps
FROM surveys v JOIN segments g USING (customer_id)
WHERE v.survey_ts < $as_of
  AND v.survey_ts >= CAST(CAST($as_of AS DATE) - $window_days AS TIMESTAMP)
GROUP BY g.segment
ORDER BY nps DESC, g.segment
