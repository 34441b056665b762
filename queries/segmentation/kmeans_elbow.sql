-- name: kmeans_elbow
-- description: k-means for every k in a range at once, with inertia, Davies-Bouldin and silhouette per k, to choose k
-- param: as_of DATE = '2024-01-01'
-- param: min_k INT = 2
-- param: max_k INT = 8
-- param: seed INT = 0
-- param: transactions TABLE = transactions
--
-- Features per customer with a purchase before as_of: ln(1 + recency_days), ln(1 + frequency)
-- and ln(1 + monetary) (monetary floored at 0), standardized by kmeans_fit. One model per k
-- (GROUP BY k over a cross join with the k values), each evaluated on the same customers.
-- Look for the k after which inertia stops falling fast, with a low Davies-Bouldin index and a
-- high silhouette (exact up to 10,000 customers, a seeded sample of 10,000 beyond).
WITH customer_rfm AS (
  SELECT customer_id, rfm(order_ts, amount, $as_of) AS v
  FROM transactions
  GROUP BY customer_id
), features AS (
  SELECT customer_id,
         make_array(ln(1 + v['recency_days']), ln(1 + v['frequency']),
                    ln(1 + greatest(v['monetary'], 0))) AS f
  FROM customer_rfm
  WHERE v['frequency'] > 0
), ks AS (
  SELECT unnest(range($min_k, $max_k + 1)) AS k
), models AS (
  SELECT k, kmeans_fit(f, k, named_struct('seed', $seed)) AS model
  FROM features CROSS JOIN ks
  GROUP BY k
), evaluated AS (
  -- The model's own fields travel with the evaluation (first_value: one model per k), so
  -- `models` is read once; a join back to it would fit every k again.
  SELECT m.k,
         kmeans_evaluate(m.model, x.f) AS e,
         first_value(m.model['inertia']) AS inertia,
         first_value(m.model['sizes']) AS sizes,
         first_value(m.model['rows_used']) AS customers,
         first_value(m.model['converged']) AS converged
  FROM features x CROSS JOIN models m
  GROUP BY m.k
)
SELECT k,
       inertia,
       e['davies_bouldin'] AS davies_bouldin,
       e['silhouette'] AS silhouette,
       e['silhouette_rows'] AS silhouette_rows,
       sizes,
       customers,
       converged
FROM evaluated
ORDER BY k
