-- name: engagement_by_segment
-- description: Events, active days and stickiness (mean daily / mean monthly active customers) per RFM segment
-- param: as_of DATE = '2024-01-01'
-- param: window_days INT = 365
-- param: customers TABLE = customers
-- param: transactions TABLE = transactions
-- param: events TABLE = events
-- param: map TEXT = 'standard'
--
-- Segments as of as_of; events from [as_of - window_days, as_of). events_per_customer and
-- active_days_per_customer divide by all of the segment's customers; stickiness is the mean
-- over the window's days of the segment's customers active that day, divided by the mean
-- over its calendar months of those active that month (DAU/MAU; days without events count as
-- 0 active).
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
), customer_days AS (
  -- Summed per customer and day before the segments are joined: a CTE is evaluated again
  -- wherever it is referenced, so the segments are joined as few times as possible (twice).
  SELECT customer_id, CAST(event_ts AS DATE) AS day, count(*) AS events
  FROM events
  WHERE event_ts < $as_of
    AND event_ts >= CAST(CAST($as_of AS DATE) - $window_days AS TIMESTAMP)
  GROUP BY customer_id, CAST(event_ts AS DATE)
), customer_activity AS (
  SELECT customer_id, sum(events) AS events, count(*) AS active_days
  FROM customer_days
  GROUP BY customer_id
), customer_months AS (
  SELECT DISTINCT customer_id, date_trunc('month', day) AS month
  FROM customer_days
), per_segment AS (
  -- A segment's active customer-days (summed over the window's days, customers active that
  -- day) are its distinct (customer, day) pairs: the customers' active days summed.
  SELECT g.segment, count(*) AS customers, count(a.customer_id) AS engaged_customers,
         coalesce(sum(a.events), 0) AS events, coalesce(sum(a.active_days), 0) AS active_days
  FROM segments g LEFT JOIN customer_activity a ON a.customer_id = g.customer_id
  GROUP BY g.segment
), monthly AS (
  SELECT segment, avg(active) AS mean_monthly_active FROM (
    SELECT g.segment, m.month, count(*) AS active
    FROM customer_months m JOIN segments g ON g.customer_id = m.customer_id
    GROUP BY g.segment, m.month)
  GROUP BY segment
)
SELECT s.segment,
       s.customers,
       s.engaged_customers,
       s.events,
       CAST(s.events AS DOUBLE) / s.customers AS events_per_customer,
       CAST(s.active_days AS DOUBLE) / s.customers AS active_days_per_customer,
       CAST(nullif(s.active_days, 0) AS DOUBLE) / CAST($window_days AS DOUBLE)
         / m.mean_monthly_active AS stickiness
FROM per_segment s
LEFT JOIN monthly m ON m.segment = s.segment
ORDER BY events_per_customer DESC, s.segment
