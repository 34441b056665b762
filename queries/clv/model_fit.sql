-- name: model_fit
-- description: BG/NBD, Pareto/NBD and Gamma-Gamma fits on the customers' purchase history, for monitoring drift
-- param: as_of DATE = '2024-01-01'
-- param: period TEXT = 'week'
-- param: penalizer DOUBLE = 0.0
-- param: transactions TABLE = transactions
--
-- One row per model: its parameters (p1..p4 in the model's order: r, alpha, a, b; r, alpha,
-- s, beta; p, q, v), the log-likelihood, the customers used and skipped, and whether the fit
-- converged. Purchases are summarised with btyd_summary up to and including as_of, in periods
-- of `period` (day, week or month).
WITH summary AS (
  SELECT btyd_summary(order_ts, amount, $as_of, $period) AS s
  FROM transactions
  GROUP BY customer_id
), fits AS (
  SELECT bgnbd_fit(s['frequency'], s['recency'], s['T'], $penalizer) AS bg,
         paretonbd_fit(s['frequency'], s['recency'], s['T'], $penalizer) AS pareto,
         gammagamma_fit(s['frequency'], s['monetary_value'], $penalizer) AS gg
  FROM summary
  WHERE s IS NOT NULL
)
SELECT bg['model'] AS model, bg['r'] AS p1, bg['alpha'] AS p2, bg['a'] AS p3, bg['b'] AS p4,
       bg['log_likelihood'] AS log_likelihood, bg['rows_used'] AS customers_used,
       bg['rows_skipped'] AS customers_skipped, bg['converged'] AS converged
FROM fits
UNION ALL
SELECT pareto['model'], pareto['r'], pareto['alpha'], pareto['s'], pareto['beta'],
       pareto['log_likelihood'], pareto['rows_used'], pareto['rows_skipped'], pareto['converged']
FROM fits
UNION ALL
SELECT gg['model'], gg['p'], gg['q'], gg['v'], NULL,
       gg['log_likelihood'], gg['rows_used'], gg['rows_skipped'], gg['converged']
FROM fits
ORDER BY model
