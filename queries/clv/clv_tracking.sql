-- name: clv_tracking
-- description: Actual vs BG/NBD-expected repeat transactions per period, cumulative and incremental, across the calibration and the holdout
-- param: calibration_end DATE = '2023-07-01'
-- param: observation_end DATE = '2024-01-01'
-- param: period TEXT = 'week'
-- param: transactions TABLE = transactions
--
-- lifetimes' expected_cumulative_transactions with a BG/NBD model fitted on the calibration
-- summaries (btyd_calibration_holdout up to calibration_end, in periods of `period`: day, week
-- or month). Periods are counted from the one holding the first transaction to the one
-- before the period holding observation_end. `actual`: repeat transactions (a customer's
-- periods with a purchase after its first) up to and including the period; `predicted`: for
-- every customer whose first purchase period is at or before it, the model's expected
-- purchases of a new customer over the time from that period to the end of this one.
-- `holdout` tells the periods after the one holding calibration_end.
WITH split AS (
  SELECT btyd_calibration_holdout(order_ts, amount, $calibration_end, $observation_end, $period) AS s
  FROM transactions
  GROUP BY customer_id
), model AS (
  SELECT bgnbd_fit(s['frequency_cal'], s['recency_cal'], s['T_cal']) AS bg
  FROM split
  WHERE s IS NOT NULL
), purchases AS (
  SELECT DISTINCT customer_id, date_trunc($period, order_ts) AS p
  FROM transactions
  WHERE order_ts IS NOT NULL AND amount IS NOT NULL
), origin AS (
  SELECT min(p) AS p0 FROM purchases
), indexed AS (
  -- A timestamp's period index from the first period: whole days, weeks or calendar months.
  SELECT customer_id,
         CASE $period
           WHEN 'month' THEN CAST((date_part('year', p) - date_part('year', p0)) * 12
                                  + date_part('month', p) - date_part('month', p0) AS BIGINT)
           WHEN 'week' THEN CAST(round((date_part('epoch', p) - date_part('epoch', p0)) / 604800) AS BIGINT)
           ELSE CAST(round((date_part('epoch', p) - date_part('epoch', p0)) / 86400) AS BIGINT)
         END AS i
  FROM purchases CROSS JOIN origin
), horizon AS (
  SELECT p0,
         CASE $period
           WHEN 'month' THEN CAST((date_part('year', e) - date_part('year', p0)) * 12
                                  + date_part('month', e) - date_part('month', p0) AS BIGINT)
           WHEN 'week' THEN CAST(round((date_part('epoch', e) - date_part('epoch', p0)) / 604800) AS BIGINT)
           ELSE CAST(round((date_part('epoch', e) - date_part('epoch', p0)) / 86400) AS BIGINT)
         END AS t,
         CASE $period
           WHEN 'month' THEN CAST((date_part('year', c) - date_part('year', p0)) * 12
                                  + date_part('month', c) - date_part('month', p0) AS BIGINT)
           WHEN 'week' THEN CAST(round((date_part('epoch', c) - date_part('epoch', p0)) / 604800) AS BIGINT)
           ELSE CAST(round((date_part('epoch', c) - date_part('epoch', p0)) / 86400) AS BIGINT)
         END AS calibration_i
  FROM origin
  CROSS JOIN (SELECT date_trunc($period, CAST($observation_end AS TIMESTAMP)) AS e,
                     date_trunc($period, CAST($calibration_end AS TIMESTAMP)) AS c)
), firsts AS (
  SELECT customer_id, min(i) AS first_i FROM indexed GROUP BY customer_id
), cohorts AS (
  SELECT first_i, count(*) AS customers FROM firsts GROUP BY first_i
), repeats AS (
  SELECT i, count(*) AS n
  FROM indexed JOIN firsts USING (customer_id)
  WHERE i > first_i
  GROUP BY i
), periods AS (
  SELECT unnest(range(0, t)) AS k, p0, calibration_i FROM horizon
), expected AS (
  SELECT k, sum(customers * expected_purchases(bg, CAST(k + 1 - first_i AS DOUBLE), 0, 0, 0))
           AS predicted
  FROM periods JOIN cohorts ON first_i <= k CROSS JOIN model
  GROUP BY k
), tracked AS (
  SELECT p.k, p.p0, p.calibration_i,
         sum(coalesce(r.n, 0)) OVER (ORDER BY p.k) AS actual,
         coalesce(e.predicted, 0.0) AS predicted
  FROM periods p
  LEFT JOIN repeats r ON r.i = p.k
  LEFT JOIN expected e ON e.k = p.k
)
SELECT k + 1 AS period,
       CAST(CASE $period
              WHEN 'month' THEN make_date(
                CAST(date_part('year', p0) + floor((date_part('month', p0) - 1 + k) / 12) AS INT),
                CAST((date_part('month', p0) - 1 + k) % 12 + 1 AS INT), 1)
              WHEN 'week' THEN CAST(to_timestamp_seconds(CAST(date_part('epoch', p0) AS BIGINT) + k * 604800) AS DATE)
              ELSE CAST(to_timestamp_seconds(CAST(date_part('epoch', p0) AS BIGINT) + k * 86400) AS DATE)
            END AS DATE) AS period_start,
       k > calibration_i AS holdout,
       actual,
       predicted,
       actual - coalesce(lag(actual) OVER (ORDER BY k), 0) AS actual_incremental,
       predicted - coalesce(lag(predicted) OVER (ORDER BY k), 0.0) AS predicted_incremental
FROM tracked
ORDER BY k
