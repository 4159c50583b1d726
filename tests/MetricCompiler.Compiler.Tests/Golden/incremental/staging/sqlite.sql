-- the build table, swapped in with the run's other tables
create table stg_events__mc_build as
-- every column cast to its declared type; rows without entity or event time dropped; retention_days: 400: rows older than 400 days at the time of the run dropped
with typed as (
    select
        cast(event_id as text) as event_id,
        cast(user_id as text) as user_id,
        cast(event_type as text) as event_type,
        strftime('%Y-%m-%d %H:%M:%f', occurred_at) as occurred_at,
        case when case when revenue = cast(revenue as real) then cast(revenue as real) end >= 0 then case when revenue = cast(revenue as real) then cast(revenue as real) end end as revenue
    from raw_events
    where
        coalesce(not (occurred_at like '____-__-_____:__:__' and occurred_at < '2026-01-17'), true)
        and user_id is not null
        and strftime('%Y-%m-%d %H:%M:%f', occurred_at) >= strftime('%Y-%m-%d %H:%M:%f', strftime('%Y-%m-%d %H:%M:%f', 'now'), '-400 days')
        and strftime('%Y-%m-%d %H:%M:%f', occurred_at) >= '2026-01-17'
),

-- events sharing a `event_id` are duplicates: keep the first
ranked as (
    select
        typed.*,
        row_number() over (partition by event_id order by occurred_at nulls last, user_id nulls last, event_type nulls last, revenue nulls last) as duplicate_rank
    from typed
),

-- the raw rows from 2026-01-17 on, staged
window_rows as (
    select
        event_id,
        user_id,
        event_type,
        occurred_at,
        revenue
    from ranked
    where
        duplicate_rank = 1
),

-- the keys staged before 2026-01-17: a raw row of the window with one of them is a later duplicate
staged_keys as (
    select
        event_id
    from stg_events
    where
        occurred_at < '2026-01-17'
)

-- the rows staged before 2026-01-17, as the table in place has them
select
    *
from stg_events
where
    occurred_at < '2026-01-17'
    and occurred_at >= strftime('%Y-%m-%d %H:%M:%f', strftime('%Y-%m-%d %H:%M:%f', 'now'), '-400 days')

union all

-- the raw rows from 2026-01-17 on, staged again
select
    w.*
from window_rows as w
left join staged_keys as k
    on k.event_id = w.event_id
where
    k.event_id is null
