-- name: rfm_segment_summary
-- description: Per RFM segment: customers and revenue with their shares, and mean recency, frequency and monetary
-- param: as_of DATE = '2024-01-01'
-- param: transactions TABLE = transactions
--
-- Segments as in rfm_segments (standard map on quintile scores of the customers with a purchase
-- before as_of); shares are of those customers and of their revenue.
WITH customer_rfm AS (
  SELECT customer_id, rfm(order_ts, amount, $as_of) AS v
  FROM transactions
  GROUP BY customer_id
), segmented AS (
  SELECT v['recency_days'] AS recency_days,
         v['frequency'] AS frequency,
         v['monetary'] AS monetary,
         rfm_segment(s['r'], s['f'], s['m']) AS segment
  FROM (SELECT v, rfm_score(v['recency_days'], v['frequency'], v['monetary']) OVER () AS s
        FROM customer_rfm
        WHERE v['frequency'] > 0)
)
SELECT segment,
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
