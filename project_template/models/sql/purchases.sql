{{ config(materialized='incremental', event_time='occurred_at', lookback_days=3) }}
-- Purchases with their order value, for the commerce dashboards. Incremental on `occurred_at`: a run keeps the days
-- of the table before its last 3 and recomputes those 3 and every new day, so a purchase the SDK delivers up to 3 days
-- late is counted; an older one waits for `metricc run --full-refresh`.
select
    event_id,
    user_id,
    occurred_at,
    revenue
from {{ ref('stg_events') }}
where event_type = 'purchase'
