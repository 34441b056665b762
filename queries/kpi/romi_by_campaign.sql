-- name: romi_by_campaign
-- description: Return on marketing investment per campaign: attributed revenue against campaign cost
-- param: period_start DATE = '2023-01-01'
-- param: period_end DATE = '2024-01-01'
-- param: campaigns TABLE = campaigns
-- param: campaign_contacts TABLE = campaign_contacts
--
-- Campaigns that started in [period_start, period_end). Attributed revenue is the contacts'
-- revenue (campaign_contacts.revenue, credited on conversion); ROMI = (attributed revenue -
-- cost) / cost. A campaign without contacts has revenue 0 and ROMI -1.
WITH contacts AS (
  SELECT campaign_id,
         count(*) AS contacts,
         count(converted_ts) AS conversions,
         sum(revenue) AS revenue
  FROM campaign_contacts
  GROUP BY campaign_id
)
SELECT c.campaign_id, c.name, c.channel, CAST(c.start_ts AS DATE) AS start_date,
       coalesce(k.contacts, 0) AS contacts,
       coalesce(k.conversions, 0) AS conversions,
       c.cost,
       coalesce(k.revenue, 0) AS attributed_revenue,
       (coalesce(k.revenue, 0) - c.cost) / c.cost AS romi
FROM campaigns c
LEFT JOIN contacts k USING (campaign_id)
WHERE c.start_ts >= $period_start AND c.start_ts < $period_end
ORDER BY c.start_ts, c.campaign_id
