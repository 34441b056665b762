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
-- z_recency, z_frequency and z_monetary are each cluster's means of the three features as the
-- model saw them (standardized: minus the mean over all customers, over the population
-- standard deviation), the data of a "snake plot".
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
), stats AS (
  SELECT avg(f[1]) AS m1, stddev_pop(f[1]) AS s1, avg(f[2]) AS m2, stddev_pop(f[2]) AS s2,
         avg(f[3]) AS m3, stddev_pop(f[3]) AS s3
  FROM customers
), model AS (
  SELECT kmeans_fit(f, $k, named_struct('seed', $seed)) AS model FROM customers
), assigned AS (
  SELECT c.*, kmeans_assign(m.model, c.f) AS cluster,
         (c.f[1] - st.m1) / nullif(st.s1, 0) AS z1,
         (c.f[2] - st.m2) / nullif(st.s2, 0) AS z2,
         (c.f[3] - st.m3) / nullif(st.s3, 0) AS z3
  FROM customers c CROSS JOIN model m CROSS JOIN stats st
)
SELECT cluster,
       count(*) AS customers,
       CAST(count(*) AS DOUBLE) / sum(count(*)) OVER () AS customer_share,
       avg(recency_days) AS mean_recency_days,
       avg(frequency) AS mean_frequency,
       avg(monetary) AS mean_monetary,
       sum(monetary) AS revenue,
       sum(monetary) / sum(sum(monetary)) OVER () AS revenue_share,
       avg(z1) AS z_recency,
       avg(z2) AS z_frequency,
       avg(z3) AS z_monetary
FROM assigned
GROUP BY cluster
ORDER BY cluster
