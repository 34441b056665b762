-- name: clv_backtest
-- description: Backtest of BG/NBD and Gamma-Gamma: fitted on a calibration period, predicted vs actual holdout purchases and spend per calibration frequency 0..7+ and in all
-- param: calibration_end DATE = '2023-07-01'
-- param: observation_end DATE = '2024-01-01'
-- param: period TEXT = 'week'
-- param: transactions TABLE = transactions
--
-- lifetimes' calibration_and_holdout_data (btyd_calibration_holdout) in periods of `period`:
-- BG/NBD is fitted on the calibration summaries of the customers with a purchase up to
-- calibration_end and predicts each one's purchases over the holdout (expected_purchases over
-- duration_holdout); Gamma-Gamma, fitted on the calibration's returning customers, predicts the
-- mean spend of each customer who bought in the holdout. One row per calibration frequency
-- (0..6, then 7+: the data of lifetimes' plot_calibration_purchases_vs_holdout_purchases), then
-- `all`: customers, mean and total actual and predicted holdout purchases, their mean absolute
-- error; holdout buyers, their mean actual and predicted spend and its mean absolute error.
WITH split AS (
  SELECT customer_id,
         btyd_calibration_holdout(order_ts, amount, $calibration_end, $observation_end, $period) AS s
  FROM transactions
  GROUP BY customer_id
), customers AS (
  SELECT customer_id, s['frequency_cal'] AS frequency, s['recency_cal'] AS recency,
         s['T_cal'] AS t, s['monetary_value_cal'] AS monetary_value,
         s['frequency_holdout'] AS actual, s['monetary_value_holdout'] AS actual_spend,
         s['duration_holdout'] AS duration
  FROM split
  WHERE s IS NOT NULL
), models AS (
  SELECT bgnbd_fit(frequency, recency, t) AS bg,
         gammagamma_fit(frequency, monetary_value) AS gg
  FROM customers
), predicted AS (
  SELECT CASE WHEN frequency >= 7 THEN '7+' ELSE CAST(frequency AS VARCHAR) END AS bucket,
         least(frequency, 7) AS bucket_order,
         actual,
         expected_purchases(bg, duration, frequency, recency, t) AS predicted,
         CASE WHEN actual > 0 THEN actual_spend END AS actual_spend,
         CASE WHEN actual > 0 THEN expected_spend(gg, frequency, monetary_value) END
           AS predicted_spend
  FROM customers CROSS JOIN models
), rows AS (
  SELECT bucket, bucket_order, actual, predicted, actual_spend, predicted_spend FROM predicted
  UNION ALL
  SELECT 'all', 8, actual, predicted, actual_spend, predicted_spend FROM predicted
)
SELECT bucket,
       count(*) AS customers,
       avg(actual) AS actual_mean,
       avg(predicted) AS predicted_mean,
       sum(actual) AS actual_total,
       sum(predicted) AS predicted_total,
       avg(abs(actual - predicted)) AS mae,
       count(actual_spend) AS buyers,
       avg(actual_spend) AS actual_spend_mean,
       avg(predicted_spend) AS predicted_spend_mean,
       avg(abs(actual_spend - predicted_spend)) AS spend_mae
FROM rows
GROUP BY bucket, bucket_order
ORDER BY bucket_order
