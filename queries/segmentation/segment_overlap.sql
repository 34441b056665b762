-- name: segment_overlap
-- description: How RFM segments, lifecycle stages and value tiers overlap: customers per combination
-- param: as_of DATE = '2024-01-01'
-- param: customers TABLE = customers
-- param: transactions TABLE = transactions
-- param: map TEXT = 'standard'
--
-- For customers signed up before as_of: the RFM segment (rfm_segments' standard map,
-- 'no_purchase' without a purchase), the lifecycle stage (lifecycle_stages' rules) and the
-- value tier (value_tiers' default 50% / 80% cuts) as of as_of. share is of all customers;
-- segment_share of the RFM segment's customers.
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
), last_year AS (
  SELECT customer_id, v['frequency'] AS purchases, v['monetary'] AS spend
  FROM (SELECT customer_id, rfm(order_ts, amount, $as_of) AS v
        FROM transactions
        WHERE CAST(order_ts AS DATE) >= CAST($as_of AS DATE) - INTERVAL '365 days'
        GROUP BY customer_id)
), profiled AS (
  SELECT g.segment,
         lifecycle_stage(h.v['first_purchase'], h.v['last_purchase'], y.purchases, y.spend,
                         $as_of) AS stage,
         value_tier(coalesce(h.v['monetary'], 0.0)) OVER () AS tier
  FROM segments g
  LEFT JOIN customer_rfm h USING (customer_id)
  LEFT JOIN last_year y USING (customer_id)
)
SELECT segment, stage, tier,
       count(*) AS customers,
       CAST(count(*) AS DOUBLE) / sum(count(*)) OVER () AS share,
       CAST(count(*) AS DOUBLE) / sum(count(*)) OVER (PARTITION BY segment) AS segment_share
FROM profiled
GROUP BY segment, stage, tier
ORDER BY segment, stage, tier
