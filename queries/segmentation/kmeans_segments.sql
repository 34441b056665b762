-- name: kmeans_segments
-- description: k-means segments from RFM features, with a profile per cluster (size, mean R/F/M, revenue share)
-- param: as_of DATE = '2024-01-01'
-- param: k INT = 4
-- param: seed INT = 0
-- param: transactions TABLE = transactions
--
-- Features per customer with a purchase before as_of: ln(1 + recency_days), ln(1 + frequency)
-- and ln(1 + monetary) (monetary floored at 0), standardized by kmeans_fit. Clusters are
-- numbered by size, largest first; the same data, k and seed give the same numbers. To keep
-- the model, store `SELECT kmeans_fit(...)` with COPY ... TO and apply it with kmeans_assign.
WITH customer_rfm AS (
  SELECT customer_id, rfm(order_ts, amount, $as_of) AS v
  FROM transactions
  GROUP BY customer_id
), customers AS (
  SELECT customer_id,
         v['recency_days'] AS recency_days,
         v['frequency'] AS frequency,
         v['monetary'] AS monetary,
         make_array(ln(1 + v['recency_days']), ln(1 + v['frequency']),
                    ln(1 + greatest(v['monetary'], 0))) AS f
  FROM customer_rfm
  WHERE v['frequency'] > 0
), model AS (
  SELECT kmeans_fit(f, $k, named_struct('seed', $seed)) AS model FROM customers
), assigned AS (
  SELECT c.*, kmeans_assign(m.model, c.f) AS cluster
  FROM customers c CROSS JOIN model m
)
SELECT cluster,
       count(*) AS customers,
       CAST(count(*) AS DOUBLE) / sum(count(*)) OVER () AS customer_share,
       avg(recency_days) AS mean_recency_days,
       avg(frequency) AS mean_frequency,
       avg(monetary) AS mean_monetary,
       sum(monetary) AS revenue,
       sum(monetary) / sum(sum(monetary)) OVER () AS revenue_share
FROM assigned
GROUP BY cluster
ORDER BY cluster
