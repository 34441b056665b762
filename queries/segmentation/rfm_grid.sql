-- name: rfm_grid
-- description: Recency x frequency score grid: customers, revenue and mean monetary per cell, with the segment the map gives the cell and its rule
-- param: as_of DATE = '2024-01-01'
-- param: transactions TABLE = transactions
-- param: map TEXT = 'standard'
--
-- Every cell of the bins x bins grid is listed, empty ones with 0 customers. Scores as in
-- rfm_segments (customers with a purchase before as_of, scored in the map's number of bins).
-- `segment` is what the map gives the cell: the segment of most of the cell's monetary scores
-- (ties to the lower m), so a map that ignores M labels every cell with exactly one segment;
-- `segments` is how many segments the cell's codes fall into (more than 1 when the map uses
-- M). `unassigned` counts the cell's customers no rule covers (the map's fallback).
WITH customer_rfm AS (
  SELECT customer_id, rfm(order_ts, amount, $as_of) AS v
  FROM transactions
  GROUP BY customer_id
), scored AS (
  SELECT v['monetary'] AS monetary,
         rfm_score(v['recency_days'], v['frequency'], v['monetary'], segment_map_bins($map)) OVER () AS s
  FROM customer_rfm
  WHERE v['frequency'] > 0
), segmented AS (
  SELECT s['r'] AS r_score, s['f'] AS f_score, monetary,
         rfm_segment(s['r'], s['f'], s['m'], $map) AS segment
  FROM scored
), filled AS (
  SELECT r_score, f_score,
         count(*) AS customers,
         sum(monetary) AS revenue,
         sum(CASE WHEN rfm_segment_rule(segment, $map) = 'no rule matches' THEN 1 ELSE 0 END)
           AS unassigned
  FROM segmented
  GROUP BY r_score, f_score
), scores AS (
  SELECT unnest(range(1, segment_map_bins($map) + 1)) AS score
), codes AS (
  SELECT CAST(r.score AS INT) AS r_score, CAST(f.score AS INT) AS f_score, m.score AS m_score,
         rfm_segment(r.score, f.score, m.score, $map) AS segment
  FROM scores r CROSS JOIN scores f CROSS JOIN scores m
), cell_segments AS (
  SELECT r_score, f_score, segment, count(*) AS codes, min(m_score) AS first_m
  FROM codes
  GROUP BY r_score, f_score, segment
), labels AS (
  SELECT r_score, f_score,
         first_value(segment ORDER BY codes DESC, first_m) AS segment,
         count(*) AS segments
  FROM cell_segments
  GROUP BY r_score, f_score
)
SELECT l.r_score, l.f_score, l.segment, rfm_segment_rule(l.segment, $map) AS rule, l.segments,
       coalesce(c.customers, 0) AS customers,
       coalesce(c.revenue, 0.0) AS revenue,
       c.revenue / c.customers AS mean_monetary,
       coalesce(c.unassigned, 0) AS unassigned
FROM labels l
LEFT JOIN filled c ON c.r_score = l.r_score AND c.f_score = l.f_score
ORDER BY l.r_score DESC, l.f_score
