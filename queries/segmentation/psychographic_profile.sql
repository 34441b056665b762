-- name: psychographic_profile
-- description: Each RFM segment by survey lifestyle, values and benefit sought: respondents and share
-- param: as_of DATE = '2024-01-01'
-- param: customers TABLE = customers
-- param: transactions TABLE = transactions
-- param: surveys TABLE = surveys
-- param: map TEXT = 'standard'
--
-- Segments as of as_of ('no_purchase' without a purchase). Each customer's latest survey
-- answer before as_of counts once (ties broken by the highest lifestyle, values, benefit);
-- NULL answers are left out of their dimension. One row per segment, dimension (lifestyle,
-- values, benefit_sought) and value.
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
), latest AS (
  SELECT customer_id, lifestyle, "values", benefit_sought
  FROM (SELECT customer_id, lifestyle, "values", benefit_sought,
               row_number() OVER (PARTITION BY customer_id
                                  ORDER BY survey_ts DESC, lifestyle DESC, "values" DESC,
                                           benefit_sought DESC) AS n
        FROM surveys WHERE survey_ts < $as_of)
  WHERE n = 1
), answers AS (
  -- One row per (segment, dimension, value) from a single join: unnesting the three answers
  -- rather than a UNION ALL of three joins, which would evaluate the segments three times.
  SELECT g.segment,
         unnest(make_array(
           named_struct('dimension', 'lifestyle', 'value', l.lifestyle),
           named_struct('dimension', 'values', 'value', l."values"),
           named_struct('dimension', 'benefit_sought', 'value', l.benefit_sought))) AS answer
  FROM latest l JOIN segments g ON g.customer_id = l.customer_id
), long AS (
  SELECT segment, answer['dimension'] AS dimension, answer['value'] AS value
  FROM answers
  WHERE answer['value'] IS NOT NULL
)
SELECT segment, dimension, value,
       count(*) AS respondents,
       CAST(count(*) AS DOUBLE) / sum(count(*)) OVER (PARTITION BY segment, dimension)
         AS segment_share
FROM long
GROUP BY segment, dimension, value
ORDER BY segment, dimension, value
