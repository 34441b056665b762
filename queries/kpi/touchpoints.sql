-- name: touchpoints
-- description: Distinct channels each RFM segment's customers interacted through (orders, events, campaign contacts)
-- param: as_of DATE = '2024-01-01'
-- param: window_days INT = 365
-- param: customers TABLE = customers
-- param: transactions TABLE = transactions
-- param: events TABLE = events
-- param: campaigns TABLE = campaigns
-- param: campaign_contacts TABLE = campaign_contacts
-- param: map TEXT = 'standard'
--
-- A customer's touchpoints are the distinct channels of their orders, their events and the
-- campaigns that reached them in [as_of - window_days, as_of). Per segment (as of as_of):
-- customers, mean touchpoints, and the shares with none, one, and two or more.
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
), touches AS (
  SELECT customer_id, channel FROM transactions
  WHERE order_ts < $as_of AND order_ts >= CAST(CAST($as_of AS DATE) - $window_days AS TIMESTAMP)
  UNION ALL
  SELECT customer_id, channel FROM events
  WHERE event_ts < $as_of AND event_ts >= CAST(CAST($as_of AS DATE) - $window_days AS TIMESTAMP)
  UNION ALL
  SELECT k.customer_id, c.channel FROM campaign_contacts k JOIN campaigns c USING (campaign_id)
  WHERE k.sent_ts < $as_of AND k.sent_ts >= CAST(CAST($as_of AS DATE) - $window_days AS TIMESTAMP)
), per_customer AS (
  SELECT g.segment, g.customer_id, count(DISTINCT t.channel) AS touchpoints
  FROM segments g LEFT JOIN touches t USING (customer_id)
  GROUP BY g.segment, g.customer_id
)
SELECT segment,
       count(*) AS customers,
       avg(touchpoints) AS mean_touchpoints,
       CAST(count(*) FILTER (WHERE touchpoints = 0) AS DOUBLE) / count(*) AS no_touchpoint_share,
       CAST(count(*) FILTER (WHERE touchpoints = 1) AS DOUBLE) / count(*) AS single_channel_share,
       CAST(count(*) FILTER (WHERE touchpoints >= 2) AS DOUBLE) / count(*) AS multichannel_share
FROM per_customer
GROUP BY segment
ORDER BY mean_touchpoints DESC, segment
