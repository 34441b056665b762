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
-- param: map TEXT = 'standard'
--
-- Segments are rfm_segments' as of as_of ('no_purchase' for customers without a purchase);
-- everything else is measured over [as_of - window_days, as_of): revenue and gross margin net
-- of refunds, orders (purchases), average order value (order revenue / orders), orders per
-- customer, NPS (answers scored 0..10; others are not counted here, while nps() and
-- nps_by_segment reject them) and mean satisfaction of the survey answers, response and
-- conversion rates of the campaign contacts sent, events per customer. CLV is the discounted
-- expected value of the next `months` (BG/NBD and Gamma-Gamma fitted on weekly summaries of
-- all purchases before as_of, as cltv_by_customer does): total and mean per segment.
-- kmeans_cluster is the k-means cluster (kmeans_segments' clusters: k and seed, log RFM
-- features as of as_of) most of the segment's customers fall in, lowest number on a tie, and
-- kmeans_cluster_share the share of them it holds. With models = false neither CLV nor k-means
-- models are fitted and their columns are NULL: the rest of the dashboard in a fraction of the
-- time. A KPI without data in a segment is NULL.
WITH customer_rfm AS (
  SELECT customer_id, rfm(order_ts, amount, $as_of) AS v
  FROM transactions
  GROUP BY customer_id
), scored AS (
  SELECT customer_id,
         rfm_score(v['recency_days'], v['frequency'], v['monetary'], segment_map_bins($map)) OVER () AS s
  FROM customer_rfm
  WHERE v['frequency'] > 0
), segments AS (
  SELECT c.customer_id, coalesce(rfm_segment(s['r'], s['f'], s['m'], $map), 'no_purchase') AS segment
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
), customer_clv AS (
  SELECT c.customer_id,
         cltv(m.bg, m.gg, c.frequency, c.recency, c.t, c.monetary_value,
              named_struct('months', $months, 'discount_rate', $discount_rate,
                           'period', 'week')) AS cltv
  FROM btyd_customers c CROSS JOIN clv_models m
), since AS (
  SELECT CAST(CAST($as_of AS DATE) - $window_days AS TIMESTAMP) AS ts
), money AS (
  SELECT customer_id, sum(amount) AS revenue, sum(cost) AS cost,
         count(*) FILTER (WHERE amount >= 0) AS orders,
         coalesce(sum(amount) FILTER (WHERE amount >= 0), 0) AS order_revenue
  FROM transactions
  WHERE order_ts < $as_of AND order_ts >= (SELECT ts FROM since)
  GROUP BY customer_id
), answers AS (
  SELECT customer_id,
         count(*) FILTER (WHERE nps BETWEEN 0 AND 10) AS nps_answers,
         count(*) FILTER (WHERE nps BETWEEN 9 AND 10) AS promoters,
         count(*) FILTER (WHERE nps BETWEEN 0 AND 6) AS detractors,
         sum(satisfaction) AS satisfaction_sum,
         count(satisfaction) AS satisfaction_answers
  FROM surveys
  WHERE survey_ts < $as_of AND survey_ts >= (SELECT ts FROM since)
  GROUP BY customer_id
), contacted AS (
  SELECT customer_id, count(*) AS sent, count(responded_ts) AS responded,
         count(converted_ts) AS converted
  FROM campaign_contacts
  WHERE sent_ts < $as_of AND sent_ts >= (SELECT ts FROM since)
  GROUP BY customer_id
), engaged AS (
  SELECT customer_id, count(*) AS events
  FROM events
  WHERE event_ts < $as_of AND event_ts >= (SELECT ts FROM since)
  GROUP BY customer_id
), per_customer AS (
  -- Every fact table is summed per customer first and joined to the segments once: DataFusion
  -- evaluates a CTE again wherever it is referenced, and the segments are the costly part.
  SELECT g.segment, m.revenue, m.cost, m.orders, m.order_revenue,
         a.nps_answers, a.promoters, a.detractors, a.satisfaction_sum, a.satisfaction_answers,
         k.sent, k.responded, k.converted, e.events, l.cltv
  FROM segments g
  LEFT JOIN money m ON m.customer_id = g.customer_id
  LEFT JOIN answers a ON a.customer_id = g.customer_id
  LEFT JOIN contacted k ON k.customer_id = g.customer_id
  LEFT JOIN engaged e ON e.customer_id = g.customer_id
  LEFT JOIN customer_clv l ON l.customer_id = g.customer_id
), by_segment AS (
  SELECT segment,
         count(*) AS customers,
         coalesce(sum(revenue), 0) AS revenue,
         coalesce(sum(revenue - cost), 0) AS gross_profit,
         coalesce(sum(orders), 0) AS orders,
         coalesce(sum(order_revenue), 0) AS order_revenue,
         100.0 * (sum(promoters) - sum(detractors)) / nullif(sum(nps_answers), 0) AS nps,
         CAST(sum(satisfaction_sum) AS DOUBLE) / nullif(sum(satisfaction_answers), 0)
           AS mean_satisfaction,
         CAST(sum(responded) AS DOUBLE) / nullif(sum(sent), 0) AS response_rate,
         CAST(sum(converted) AS DOUBLE) / nullif(sum(sent), 0) AS conversion_rate,
         coalesce(sum(events), 0) AS events,
         sum(cltv) AS total_cltv,
         avg(cltv) AS mean_cltv
  FROM per_customer
  GROUP BY segment
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
       s.nps,
       s.mean_satisfaction,
       s.response_rate,
       s.conversion_rate,
       CAST(s.events AS DOUBLE) / s.customers AS events_per_customer,
       s.total_cltv,
       s.mean_cltv,
       k.kmeans_cluster,
       k.share AS kmeans_cluster_share
FROM by_segment s
LEFT JOIN cluster_mix k ON k.segment = s.segment AND k.place = 1
ORDER BY s.revenue DESC, s.segment
