-- the latest day in place
select
    max(event_date) as latest
from daily_events

-- the build table, swapped in with the run's other tables
create table daily_events__mc_build as
-- the model's query (models/daily_events.sql:1:1)
with mc_incremental_window as (
-- Events per day and type.
select cast(occurred_at as date) as event_date, event_type, count(*) as events
from stg_events__mc_build
group by 1, 2
)

-- the days of `daily_events` before 2026-01-16, as the table in place has them
select
    *
from daily_events
where
    event_date < '2026-01-16'

union all

-- every day from 2026-01-16 on (and rows without `event_date`), recomputed
select
    *
from mc_incremental_window
where
    (event_date >= '2026-01-16' or event_date is null)
