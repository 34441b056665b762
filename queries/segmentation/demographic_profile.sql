-- name: demographic_profile
-- description: Each RFM segment by age band, gender and income band: customers and share of the segment
-- param: as_of DATE = '2024-01-01'
-- param: customers TABLE = customers
-- param: transactions TABLE = transactions
-- param: map TEXT = 'standard'
--
-- Segments as of as_of (rfm_segments' standard map, 'no_purchase' without a purchase). Age is
-- the year of as_of minus the birth year, in bands under 25, 25-34, 35-44, 45-54, 55-64, 65
-- and over. One row per segment, dimension (age_band, gender, income_band) and value.
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
), described AS (
  SELECT g.segment,
         CASE WHEN date_part('year', $as_of) - c.birth_year < 25 THEN 'under 25'
              WHEN date_part('year', $as_of) - c.birth_year < 35 THEN '25-34'
              WHEN date_part('year', $as_of) - c.birth_year < 45 THEN '35-44'
              WHEN date_part('year', $as_of) - c.birth_year < 55 THEN '45-54'
              WHEN date_part('year', $as_of) - c.birth_year < 65 THEN '55-64'
              ELSE '65 and over' END AS age_band,
         c.gender, c.income_band
  FROM segments g JOIN customers c USING (customer_id)
), long AS (
  -- Unnested rather than a UNION ALL over `described`, which would evaluate the segments three
  -- times.
  SELECT segment, answer['dimension'] AS dimension, answer['value'] AS value
  FROM (
    SELECT segment,
           unnest(make_array(named_struct('dimension', 'age_band', 'value', age_band),
                             named_struct('dimension', 'gender', 'value', gender),
                             named_struct('dimension', 'income_band', 'value', income_band)))
             AS answer
    FROM described)
)
SELECT segment, dimension, value,
       count(*) AS customers,
       CAST(count(*) AS DOUBLE) / sum(count(*)) OVER (PARTITION BY segment, dimension)
         AS segment_share
FROM long
GROUP BY segment, dimension, value
ORDER BY segment, dimension, value
