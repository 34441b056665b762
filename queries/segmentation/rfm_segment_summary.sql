-- name: rfm_segment_summary
-- description: Per RFM segment: customers and revenue with their shares, and mean recency, frequency and monetary
-- param: as_of DATE = '2024-01-01'
-- param: transactions TABLE = transactions
-- param: map TEXT = 'standard'
--
-- Segments as in rfm_segments (the segment map `map`, standard by default, on scores of the
-- customers with a purchase before as_of, in as many bins as the map has); `rule` is the map's
-- rule for each segment (rfm_segment_rule). Shares are of those customers and of their revenue.
WITH customer_rfm AS (
  SELECT customer_id, rfm(order_ts, amount, $as_of) AS v
  FROM transactions
  GROUP BY customer_id
), segmented AS (
  SELECT v['recency_days'] AS recency_days,
         v['frequency'] AS frequency,
         v['monetary'] AS monetary,
         rfm_segment(s['r'], s['f'], s['m'], $map) AS segment
  FROM (SELECT v, rfm_score(v['recency_days'], v['frequency'], v['monetary'], segment_map_bins($map)) OVER () AS s
        FROM customer_rfm
        WHERE v['frequency'] > 0)
)
SELECT segment,
       rfm_segment_rule(segment, $map) AS rule,
       count(*) AS customers,
       CAST(count(*) AS DOUBLE) / sum(count(*)) OVER () AS customer_share,
       sum(monetary) AS revenue,
       sum(monetary) / sum(sum(monetary)) OVER () AS revenue_share,
       avg(recency_days) AS mean_recency_days,
       avg(frequency) AS mean_frequency,
       avg(monetary) AS mean_monetary
FROM segmented
GROUP BY segment
ORDER BY revenue DESC, segment
