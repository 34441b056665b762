-- name: kpi_dashboard
-- description: One row per RFM segment with the headline KPIs of the year before as_of
-- param: as_of DATE = '2024-01-01'
-- param: window_days INT = 365
-- param: customers TABLE = customers
-- param: transactions TABLE = transactions
-- param: events TABLE = events
-- param: surveys TABLE = surveys
-- param: campaign_contacts TABLE = campaign_contacts
-- param: months INT = 12
-- param: discount_rate DOUBLE = 0.01
-- param: models BOOLEAN = true
-- param: k INT = 4
-- param: seed INT = 0
--
-- Segments are rfm_segments' as of as_of ('no_purchase' for customers without a purchase);
-- everything else is measured over [as_of - window_days, as_of): revenue and gross margin net
-- of refunds, orders (purchases), average order value (order revenue / orders), orders per
-- customer, NPS and mean satisfaction of the survey answers, response and conversion rates of
-- the campaign contacts sent, events per customer. CLV is the discounted expected value of the
-- next `months` (BG/NBD and Gamma-Gamma fitted on weekly summaries of all purchases before
-- as_of, as cltv_by_customer does): total and mean per segment. kmeans_cluster is the k-means
-- cluster (kmeans_segments' clusters: k and seed, log RFM features as of as_of) most of the
-- segment's customers fall in, lowest number on a tie, and kmeans_cluster_share the share of
-- them it holds. With models = false neither CLV nor k-means models are fitted and their
-- columns are NULL: the rest of the dashboard in a fraction of the time. A KPI without data in
-- a segment is NULL.
WITH customer_rfm AS (
  SELECT customer_id, rfm(order_ts, amount, $as_of) AS v
  FROM transactions
  GROUP BY customer_id
), scored AS (
  SELECT customer_id,
         rfm_score(v['recency_days'], v['frequency'], v['monetary']) OVER () AS s
  FROM customer_rfm
  WHERE v['frequency'] > 0
), segments AS (
  SELECT c.customer_id, coalesce(rfm_segment(s['r'], s['f'], s['m']), 'no_purchase') AS segment
  FROM customers c LEFT JOIN scored USING (customer_id)
  WHERE c.signup_ts < $as_of
), features AS (
  SELECT customer_id,
         make_array(ln(1 + v['recency_days']), ln(1 + v['frequency']),
                    ln(1 + greatest(v['monetary'], 0))) AS f
  FROM customer_rfm
  WHERE v['frequency'] > 0 AND $models
), kmeans_model AS (
  SELECT kmeans_fit(f, $k, named_struct('seed', $seed)) AS model FROM features
), clustered AS (
  SELECT g.segment, kmeans_assign(m.model, x.f) AS kmeans_cluster
  FROM features x
  JOIN segments g ON g.customer_id = x.customer_id
  CROSS JOIN kmeans_model m
), cluster_mix AS (
  -- (`cluster` is a keyword inside OVER (...), hence the longer name.)
  SELECT segment, kmeans_cluster,
         CAST(count(*) AS DOUBLE) / sum(count(*)) OVER (PARTITION BY segment) AS share,
         row_number() OVER (PARTITION BY segment ORDER BY count(*) DESC, kmeans_cluster) AS place
  FROM clustered
  GROUP BY segment, kmeans_cluster
), btyd AS (
  SELECT customer_id,
         btyd_summary(order_ts, amount, CAST($as_of AS DATE) - 1, 'week') AS b
  FROM transactions
  WHERE amount >= 0 AND order_ts < $as_of AND $models
  GROUP BY customer_id
), btyd_customers AS (
  SELECT customer_id, b['frequency'] AS frequency, b['recency'] AS recency, b['T'] AS t,
         b['monetary_value'] AS monetary_value
  FROM btyd WHERE b IS NOT NULL
), clv_models AS (
  SELECT bgnbd_fit(frequency, recency, t) AS bg,
         gammagamma_fit(frequency, monetary_value) AS gg
  FROM btyd_customers
), clv AS (
  SELECT g.segment,
         sum(cltv(m.bg, m.gg, c.frequency, c.recency, c.t, c.monetary_value,
                  named_struct('months', $months, 'discount_rate', $discount_rate,
                               'period', 'week'))) AS total_cltv,
         avg(cltv(m.bg, m.gg, c.frequency, c.recency, c.t, c.monetary_value,
                  named_struct('months', $months, 'discount_rate', $discount_rate,
                               'period', 'week'))) AS mean_cltv
  FROM btyd_customers c
  JOIN segments g USING (customer_id)
  CROSS JOIN clv_models m
  GROUP BY g.segment
), since AS (
  SELECT CAST(CAST($as_of AS DATE) - $window_days AS TIMESTAMP) AS ts
), money AS (
  SELECT customer_id, sum(amount) AS revenue, sum(cost) AS cost,
         count(*) FILTER (WHERE amount >= 0) AS orders,
         coalesce(sum(amount) FILTER (WHERE amount >= 0), 0) AS order_revenue
  FROM transactions
  WHERE order_ts < $as_of AND order_ts >= (SELECT ts FROM since)
  GROUP BY customer_id
), sales AS (
  SELECT g.segment, count(*) AS customers,
         coalesce(sum(m.revenue), 0) AS revenue,
         coalesce(sum(m.revenue - m.cost), 0) AS gross_profit,
         coalesce(sum(m.orders), 0) AS orders,
         coalesce(sum(m.order_revenue), 0) AS order_revenue
  FROM segments g LEFT JOIN money m USING (customer_id)
  GROUP BY g.segment
), survey AS (
  SELECT g.segment, nps(v.nps) AS nps, avg(v.satisfaction) AS mean_satisfaction
  FROM surveys v JOIN segments g USING (customer_id)
  WHERE v.survey_ts < $as_of AND v.survey_ts >= (SELECT ts FROM since)
  GROUP BY g.segment
), contacts AS (
  SELECT g.segment,
         CAST(count(k.responded_ts) AS DOUBLE) / count(*) AS response_rate,
         CAST(count(k.converted_ts) AS DOUBLE) / count(*) AS conversion_rate
  FROM campaign_contacts k JOIN segments g USING (customer_id)
  WHERE k.sent_ts < $as_of AND k.sent_ts >= (SELECT ts FROM since)
  GROUP BY g.segment
), engagement AS (
  SELECT g.segment, count(*) AS events
  FROM events e JOIN segments g USING (customer_id)
  WHERE e.event_ts < $as_of AND e.event_ts >= (SELECT ts FROM since)
  GROUP BY g.segment
)
SELECT s.segment,
       s.customers,
       CAST(s.customers AS DOUBLE) / sum(s.customers) OVER () AS customer_share,
       s.revenue,
       s.revenue / sum(s.revenue) OVER () AS revenue_share,
       s.gross_profit / nullif(s.revenue, 0) AS gross_margin,
       s.orders,
       s.order_revenue / nullif(s.orders, 0) AS average_order_value,
       CAST(s.orders AS DOUBLE) / s.customers AS orders_per_customer,
       v.nps,
       v.mean_satisfaction,
       c.response_rate,
       c.conversion_rate,
       CAST(coalesce(e.events, 0) AS DOUBLE) / s.customers AS events_per_customer,
       l.total_cltv,
       l.mean_cltv,
       k.kmeans_cluster,
       k.share AS kmeans_cluster_share
FROM sales s
LEFT JOIN survey v ON v.segment = s.segment
LEFT JOIN contacts c ON c.segment = s.segment
LEFT JOIN engagement e ON e.segment = s.segment
LEFT JOIN clv l ON l.segment = s.segment
LEFT JOIN cluster_mix k ON k.segment = s.segment AND k.place = 1
ORDER BY s.revenue DESC, s.segment
