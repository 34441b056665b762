-- name: average_order_value
-- description: Average order value month by month (gross order revenue / orders), with refunds and net revenue
-- param: period_start DATE = '2023-01-01'
-- param: period_end DATE = '2024-01-01'
-- param: transactions TABLE = transactions
--
-- Orders are purchases (amount >= 0) in [period_start, period_end); refunds (amount < 0) are
-- counted by the month they were made in and reduce net revenue, not the order value.
SELECT CAST(date_trunc('month', order_ts) AS DATE) AS month,
       count(*) FILTER (WHERE amount >= 0) AS orders,
       sum(amount) FILTER (WHERE amount >= 0) AS order_revenue,
       sum(amount) FILTER (WHERE amount >= 0) / count(*) FILTER (WHERE amount >= 0)
         AS average_order_value,
       -coalesce(sum(amount) FILTER (WHERE amount < 0), 0) AS refunds,
       sum(amount) AS net_revenue
FROM transactions
WHERE order_ts >= $period_start AND order_ts < $period_end
GROUP BY 1
ORDER BY month
