-- name: engagement_by_segment
-- description: Events, active days and stickiness (mean daily / mean monthly active customers) per RFM segment
-- param: as_of DATE = '2024-01-01'
-- param: window_days INT = 365
-- param: customers TABLE = customers
-- param: transactions TABLE = transactions
-- param: events TABLE = events
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
         rfm_score(v['recency_days'], v['frequency'], v['monetary']) OVER () AS s
  FROM customer_rfm
  WHERE v['frequency'] > 0
), segments AS (
  SELECT c.customer_id, coalesce(rfm_segment(s['r'], s['f'], s['m']), 'no_purchase') AS segment
  FROM customers c LEFT JOIN scored USING (customer_id)
  WHERE c.signup_ts < $as_of
), window_events AS (
  SELECT e.customer_id, g.segment, CAST(e.event_ts AS DATE) AS day,
         date_trunc('month', e.event_ts) AS month
  FROM events e JOIN segments g USING (customer_id)
  WHERE e.event_ts < $as_of
    AND e.event_ts >= CAST(CAST($as_of AS DATE) - $window_days AS TIMESTAMP)
), sizes AS (
  SELECT segment, count(*) AS customers FROM segments GROUP BY segment
), per_segment AS (
  SELECT segment, count(*) AS events, count(DISTINCT customer_id) AS engaged_customers,
         count(DISTINCT (customer_id, day)) AS active_days
  FROM window_events GROUP BY segment
), daily AS (
  SELECT segment, sum(active) AS active_customer_days FROM (
    SELECT segment, day, count(DISTINCT customer_id) AS active FROM window_events GROUP BY segment, day)
  GROUP BY segment
), monthly AS (
  SELECT segment, avg(active) AS mean_monthly_active FROM (
    SELECT segment, month, count(DISTINCT customer_id) AS active FROM window_events GROUP BY segment, month)
  GROUP BY segment
)
SELECT s.segment,
       s.customers,
       coalesce(p.engaged_customers, 0) AS engaged_customers,
       coalesce(p.events, 0) AS events,
       CAST(coalesce(p.events, 0) AS DOUBLE) / s.customers AS events_per_customer,
       CAST(coalesce(p.active_days, 0) AS DOUBLE) / s.customers AS active_days_per_customer,
       d.active_customer_days / CAST($window_days AS DOUBLE) / m.mean_monthly_active AS stickiness
FROM sizes s
LEFT JOIN per_segment p ON p.segment = s.segment
LEFT JOIN daily d ON d.segment = s.segment
LEFT JOIN monthly m ON m.segment = s.segment
ORDER BY events_per_customer DESC, s.segment
