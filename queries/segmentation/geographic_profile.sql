-- name: geographic_profile
-- description: Customers, buyers and revenue per region and RFM segment, with each region's segment mix
-- param: as_of DATE = '2024-01-01'
-- param: window_days INT = 365
-- param: customers TABLE = customers
-- param: transactions TABLE = transactions
-- param: map TEXT = 'standard'
--
-- Segments as of as_of ('no_purchase' without a purchase); revenue net of refunds over
-- [as_of - window_days, as_of). region_share is the part of the region's customers in the
-- segment; revenue_share the part of all revenue.
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
), money AS (
  SELECT customer_id, sum(amount) AS revenue
  FROM transactions
  WHERE order_ts < $as_of AND order_ts >= CAST(CAST($as_of AS DATE) - $window_days AS TIMESTAMP)
  GROUP BY customer_id
)
SELECT c.region, g.segment,
       count(*) AS customers,
       CAST(count(*) AS DOUBLE) / sum(count(*)) OVER (PARTITION BY c.region) AS region_share,
       coalesce(sum(m.revenue), 0) AS revenue,
       coalesce(sum(m.revenue), 0) / sum(coalesce(sum(m.revenue), 0)) OVER () AS revenue_share
FROM segments g
JOIN customers c USING (customer_id)
LEFT JOIN money m USING (customer_id)
GROUP BY c.region, g.segment
ORDER BY c.region, g.segment
