-- name: segment_contribution
-- description: Each RFM segment's share of customers, revenue and gross margin over the year before as_of
-- param: as_of DATE = '2024-01-01'
-- param: window_days INT = 365
-- param: customers TABLE = customers
-- param: transactions TABLE = transactions
-- param: map TEXT = 'standard'
--
-- Segments as of as_of; revenue and cost are net of refunds over [as_of - window_days, as_of).
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
  SELECT customer_id, sum(amount) AS revenue, sum(cost) AS cost
  FROM transactions
  WHERE order_ts < $as_of AND order_ts >= CAST(CAST($as_of AS DATE) - $window_days AS TIMESTAMP)
  GROUP BY customer_id
), per_segment AS (
  SELECT g.segment, count(*) AS customers,
         coalesce(sum(m.revenue), 0) AS revenue,
         coalesce(sum(m.revenue - m.cost), 0) AS gross_profit
  FROM segments g LEFT JOIN money m USING (customer_id)
  GROUP BY g.segment
)
SELECT segment, customers,
       CAST(customers AS DOUBLE) / sum(customers) OVER () AS customer_share,
       revenue,
       revenue / sum(revenue) OVER () AS revenue_share,
       gross_profit,
       gross_profit / sum(gross_profit) OVER () AS gross_profit_share
FROM per_segment
ORDER BY revenue DESC, segment
