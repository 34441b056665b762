-- name: alive_matrix
-- description: BG/NBD P(alive) and expected purchases in the next period over a frequency x recency grid, the matrices lifetimes plots
-- param: as_of DATE = '2024-01-01'
-- param: period TEXT = 'week'
-- param: steps INT = 30
-- param: transactions TABLE = transactions
--
-- The model is bgnbd_fit on the customers' btyd_summary as of as_of (as in cltv_by_customer).
-- As lifetimes' plot_probability_alive_matrix and plot_frequency_recency_matrix, every cell is
-- a customer of age T = the largest T observed, with `frequency` repeat purchases and the last
-- one at `recency` (both in periods); `expected_purchases` is for the next 1 period. The grid
-- has frequencies 0 to the largest observed and recencies 0 to T, each in at most `steps`
-- evenly spaced values (every integer frequency when there are fewer). Cells no customer can
-- be in are left out: a customer without repeat purchases has recency 0, one with them more.
WITH summary AS (
  SELECT btyd_summary(order_ts, amount, $as_of, $period) AS s
  FROM transactions
  GROUP BY customer_id
), customers AS (
  SELECT s['frequency'] AS frequency, s['recency'] AS recency, s['T'] AS t
  FROM summary
  WHERE s IS NOT NULL
), model AS (
  SELECT bgnbd_fit(frequency, recency, t) AS bg, max(frequency) AS max_frequency,
         max(t) AS max_t
  FROM customers
), steps AS (
  SELECT unnest(range(0, greatest($steps, 2))) AS i
), frequencies AS (
  SELECT DISTINCT round(CAST(s.i AS DOUBLE) * m.max_frequency / (greatest($steps, 2) - 1)) AS frequency
  FROM steps s CROSS JOIN model m
), recencies AS (
  SELECT s.i * m.max_t / (greatest($steps, 2) - 1) AS recency
  FROM steps s CROSS JOIN model m
)
SELECT f.frequency, r.recency, m.max_t AS t,
       p_alive(m.bg, f.frequency, r.recency, m.max_t) AS p_alive,
       expected_purchases(m.bg, 1.0, f.frequency, r.recency, m.max_t) AS expected_purchases
FROM frequencies f CROSS JOIN recencies r CROSS JOIN model m
WHERE (f.frequency = 0) = (r.recency = 0)
ORDER BY f.frequency, r.recency
