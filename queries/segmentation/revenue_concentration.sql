-- name: revenue_concentration
-- description: Lorenz/Pareto curve of revenue: the top 1%, 2%, ... 100% of customers by spend and their cumulative share of revenue, with value tiers
-- param: as_of DATE = '2024-01-01'
-- param: high_share DOUBLE = 0.5
-- param: medium_share DOUBLE = 0.8
-- param: customers TABLE = customers
-- param: transactions TABLE = transactions
--
-- Customers and spend as in value_tiers (every customer who signed up before as_of; spend is
-- all purchases before as_of net of refunds), ranked by spend, highest first (ties keep the
-- same cumulative sums whichever way they are broken). One row per percentile of customers
-- (fewer when there are fewer than 100 customers): the customers and revenue in it, and the
-- cumulative shares of customers and revenue up to its end, so the row with
-- cumulative_customer_share 0.2 reads "the top 20% of customers bring this much revenue".
-- `tier` is the value tier of the percentile's first customer.
WITH spend AS (
  SELECT c.customer_id, coalesce(t.spend, 0.0) AS spend
  FROM customers c
  LEFT JOIN (SELECT customer_id, sum(amount) AS spend
             FROM transactions
             WHERE order_ts < $as_of
             GROUP BY customer_id) t USING (customer_id)
  WHERE c.signup_ts < $as_of
), ranked AS (
  SELECT spend,
         value_tier(spend, $high_share, $medium_share) OVER () AS tier,
         row_number() OVER (ORDER BY spend DESC, customer_id) AS rank,
         count(*) OVER () AS n,
         sum(spend) OVER () AS total
  FROM spend
), cumulative AS (
  SELECT spend, tier, rank, n, total,
         sum(spend) OVER (ORDER BY rank ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cum_spend,
         CAST(ceil(100.0 * rank / n) AS INT) AS percentile
  FROM ranked
)
SELECT percentile,
       count(*) AS customers,
       sum(spend) AS revenue,
       CAST(max(rank) AS DOUBLE) / max(n) AS cumulative_customer_share,
       last_value(cum_spend ORDER BY rank) / nullif(max(total), 0) AS cumulative_revenue_share,
       first_value(tier ORDER BY rank) AS tier
FROM cumulative
GROUP BY percentile
ORDER BY percentile
