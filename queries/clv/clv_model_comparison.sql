-- name: clv_model_comparison
-- description: BG/NBD, MBG/NBD and Pareto/NBD fitted to the same calibration summary: log-likelihood, AIC, BIC and holdout error, best AIC first
-- param: calibration_end DATE = '2023-07-01'
-- param: observation_end DATE = '2024-01-01'
-- param: period TEXT = 'week'
-- param: transactions TABLE = transactions
--
-- Every purchase model seglake fits, on the calibration summaries of btyd_calibration_holdout
-- (purchases up to calibration_end, in periods of `period`), judged on the same numbers: the
-- log-likelihood of the calibration data, AIC (2k - 2 ll) and BIC (k ln n - 2 ll) with k = 4
-- parameters and n customers, and on the holdout to observation_end the mean absolute error
-- of each customer's predicted purchases, with predicted and actual totals. Lower AIC, BIC
-- and error are better; `converged` says whether the fit finished.
WITH split AS (
  SELECT btyd_calibration_holdout(order_ts, amount, $calibration_end, $observation_end, $period) AS s
  FROM transactions
  GROUP BY customer_id
), customers AS (
  SELECT s['frequency_cal'] AS frequency, s['recency_cal'] AS recency, s['T_cal'] AS t,
         s['frequency_holdout'] AS actual, s['duration_holdout'] AS duration
  FROM split
  WHERE s IS NOT NULL
), fits AS (
  SELECT bgnbd_fit(frequency, recency, t) AS bg,
         mbgnbd_fit(frequency, recency, t) AS mbg,
         paretonbd_fit(frequency, recency, t) AS pareto
  FROM customers
), holdout AS (
  SELECT sum(actual) AS actual_total,
         avg(abs(actual - expected_purchases(bg, duration, frequency, recency, t))) AS bg_mae,
         sum(expected_purchases(bg, duration, frequency, recency, t)) AS bg_total,
         avg(abs(actual - expected_purchases(mbg, duration, frequency, recency, t))) AS mbg_mae,
         sum(expected_purchases(mbg, duration, frequency, recency, t)) AS mbg_total,
         avg(abs(actual - expected_purchases(pareto, duration, frequency, recency, t))) AS pareto_mae,
         sum(expected_purchases(pareto, duration, frequency, recency, t)) AS pareto_total
  FROM customers CROSS JOIN fits
), compared AS (
  SELECT m.model,
         CASE m.model WHEN 'bgnbd' THEN bg['log_likelihood'] WHEN 'mbgnbd' THEN mbg['log_likelihood']
                      ELSE pareto['log_likelihood'] END AS log_likelihood,
         CASE m.model WHEN 'bgnbd' THEN bg['rows_used'] WHEN 'mbgnbd' THEN mbg['rows_used']
                      ELSE pareto['rows_used'] END AS customers,
         CASE m.model WHEN 'bgnbd' THEN bg_mae WHEN 'mbgnbd' THEN mbg_mae
                      ELSE pareto_mae END AS holdout_mae,
         CASE m.model WHEN 'bgnbd' THEN bg_total WHEN 'mbgnbd' THEN mbg_total
                      ELSE pareto_total END AS predicted_holdout,
         actual_total AS actual_holdout,
         CASE m.model WHEN 'bgnbd' THEN bg['converged'] WHEN 'mbgnbd' THEN mbg['converged']
                      ELSE pareto['converged'] END AS converged
  FROM (VALUES ('bgnbd'), ('mbgnbd'), ('paretonbd')) AS m(model)
  CROSS JOIN fits
  CROSS JOIN holdout
)
SELECT model,
       4 AS parameters,
       customers,
       log_likelihood,
       2 * 4 - 2 * log_likelihood AS aic,
       4 * ln(CAST(customers AS DOUBLE)) - 2 * log_likelihood AS bic,
       holdout_mae,
       predicted_holdout,
       actual_holdout,
       converged
FROM compared
ORDER BY aic, model
