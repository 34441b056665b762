-- name: overview
-- description: The customer base in one row: buying customers, orders, revenue, average order value and the period the transactions cover, before as_of
-- param: as_of DATE = '2024-01-01'
-- param: transactions TABLE = transactions
--
-- Every transaction before as_of counts. As in average_order_value, orders are purchases
-- (amount >= 0) and refunds (amount < 0) are not; revenue is net of refunds; customers are
-- those with at least one order.
SELECT count(DISTINCT customer_id) FILTER (WHERE amount >= 0) AS customers,
       count(*) FILTER (WHERE amount >= 0) AS orders,
       coalesce(sum(amount), 0.0) AS revenue,
       sum(amount) FILTER (WHERE amount >= 0) / nullif(count(*) FILTER (WHERE amount >= 0), 0)
         AS average_order_value,
       min(order_ts) AS first_order,
       max(order_ts) AS last_order,
       count(*) AS transactions
FROM transactions
WHERE order_ts < $as_of
