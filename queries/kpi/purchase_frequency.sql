-- name: purchase_frequency
-- description: Orders per buying customer, month by month
-- param: period_start DATE = '2023-01-01'
-- param: period_end DATE = '2024-01-01'
-- param: transactions TABLE = transactions
--
-- Orders are purchases (amount >= 0; refunds are not orders) with order_ts in
-- [period_start, period_end); customers are those with at least one order in the month.
SELECT CAST(date_trunc('month', order_ts) AS DATE) AS month,
       count(*) AS orders,
       count(DISTINCT customer_id) AS customers,
       CAST(count(*) AS DOUBLE) / count(DISTINCT customer_id) AS purchase_frequency
FROM transactions
WHERE amount >= 0 AND order_ts >= $period_start AND order_ts < $period_end
GROUP BY 1
ORDER BY month
