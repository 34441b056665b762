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
-- One row per model by unnesting, not a UNION ALL over `fits`: DataFusion evaluates a CTE
-- again at every reference, which would fit every model three times.
SELECT m['model'] AS model, m['p1'] AS p1, m['p2'] AS p2, m['p3'] AS p3, m['p4'] AS p4,
       m['log_likelihood'] AS log_likelihood, m['customers_used'] AS customers_used,
       m['customers_skipped'] AS customers_skipped, m['converged'] AS converged
FROM (
  SELECT unnest(make_array(
           named_struct('model', bg['model'], 'p1', bg['r'], 'p2', bg['alpha'], 'p3', bg['a'],
                        'p4', bg['b'], 'log_likelihood', bg['log_likelihood'],
                        'customers_used', bg['rows_used'], 'customers_skipped', bg['rows_skipped'],
                        'converged', bg['converged']),
           named_struct('model', pareto['model'], 'p1', pareto['r'], 'p2', pareto['alpha'],
                        'p3', pareto['s'], 'p4', pareto['beta'],
                        'log_likelihood', pareto['log_likelihood'],
                        'customers_used', pareto['rows_used'],
                        'customers_skipped', pareto['rows_skipped'],
                        'converged', pareto['converged']),
           named_struct('model', gg['model'], 'p1', gg['p'], 'p2', gg['q'], 'p3', gg['v'],
                        'p4', CAST(NULL AS DOUBLE), 'log_likelihood', gg['log_likelihood'],
                        'customers_used', gg['rows_used'], 'customers_skipped', gg['rows_skipped'],
                        'converged', gg['converged']))) AS m
  FROM fits
)
ORDER BY model
