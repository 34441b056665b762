-- name: segment_trend
-- description: Each RFM segment's size and revenue month by month, to see segments drift
-- param: period_start DATE = '2023-01-01'
-- param: period_end DATE = '2024-01-01'
-- param: customers TABLE = customers
-- param: transactions TABLE = transactions
-- param: map TEXT = 'standard'
--
-- For every month starting in [period_start, period_end): customers' RFM segments as of the
-- first day of the month (rfm_segments' rules: recency in whole days from the last purchase,
-- purchases, net spend, quintile scores among that month's buyers, standard map), then each
-- segment's customers and share, and its revenue in the month (net of refunds) and share.
-- Customers without a purchase before the month are not in a segment.
WITH months AS (
  SELECT CAST(m AS DATE) AS month
  FROM (SELECT unnest(range(CAST($period_start AS TIMESTAMP), CAST($period_end AS TIMESTAMP),
                            INTERVAL '1 month')) AS m)
), history AS (
  SELECT m.month, t.customer_id,
         CAST(m.month AS DATE) - CAST(max(t.order_ts) FILTER (WHERE t.amount >= 0) AS DATE)
           AS recency_days,
         count(*) FILTER (WHERE t.amount >= 0) AS frequency,
         sum(t.amount) AS monetary
  FROM months m JOIN transactions t ON t.order_ts < m.month
  GROUP BY m.month, t.customer_id
), segmented AS (
  SELECT month, customer_id, rfm_segment(s['r'], s['f'], s['m'], $map) AS segment
  FROM (SELECT month, customer_id,
               rfm_score(recency_days, frequency, monetary, segment_map_bins($map)) OVER (PARTITION BY month) AS s
        FROM history WHERE frequency > 0)
), month_revenue AS (
  SELECT CAST(date_trunc('month', order_ts) AS DATE) AS month, customer_id, sum(amount) AS revenue
  FROM transactions
  WHERE order_ts >= $period_start AND order_ts < $period_end
  GROUP BY 1, 2
)
SELECT s.month, s.segment,
       count(*) AS customers,
       CAST(count(*) AS DOUBLE) / sum(count(*)) OVER (PARTITION BY s.month) AS customer_share,
       coalesce(sum(r.revenue), 0) AS revenue,
       coalesce(sum(r.revenue), 0) / sum(coalesce(sum(r.revenue), 0)) OVER (PARTITION BY s.month)
         AS revenue_share
FROM segmented s
LEFT JOIN month_revenue r ON r.month = s.month AND r.customer_id = s.customer_id
GROUP BY s.month, s.segment
ORDER BY s.month, s.segment
