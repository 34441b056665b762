-- name: response_and_conversion_rates
-- description: Response and conversion rates per campaign channel and month of sending
-- param: period_start DATE = '2023-01-01'
-- param: period_end DATE = '2024-01-01'
-- param: campaigns TABLE = campaigns
-- param: campaign_contacts TABLE = campaign_contacts
--
-- Contacts sent in [period_start, period_end). response_rate = responded / sent;
-- conversion_rate = converted / sent; responder_conversion_rate = converted / responded
-- (NULL when nobody responded).
SELECT CAST(date_trunc('month', k.sent_ts) AS DATE) AS month,
       c.channel,
       count(*) AS sent,
       count(k.responded_ts) AS responded,
       count(k.converted_ts) AS converted,
       CAST(count(k.responded_ts) AS DOUBLE) / count(*) AS response_rate,
       CAST(count(k.converted_ts) AS DOUBLE) / count(*) AS conversion_rate,
       CAST(count(k.converted_ts) AS DOUBLE) / nullif(count(k.responded_ts), 0)
         AS responder_conversion_rate
FROM campaign_contacts k JOIN campaigns c USING (campaign_id)
WHERE k.sent_ts >= $period_start AND k.sent_ts < $period_end
GROUP BY 1, 2
ORDER BY month, channel
