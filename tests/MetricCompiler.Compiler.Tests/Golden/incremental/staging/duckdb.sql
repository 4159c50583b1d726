-- the build table, swapped in with the run's other tables
create table stg_events__mc_build as
-- every column cast to its declared type; rows without entity or event time dropped; retention_days: 400: rows older than 400 days at the time of the run dropped
with typed as (
    select
        cast(event_id as varchar) as event_id,
        cast(user_id as varchar) as user_id,
        cast(event_type as varchar) as event_type,
        case when typeof(occurred_at) = 'TIMESTAMP' then try_cast(occurred_at as timestamp) when length(cast(occurred_at as varchar)) = 19 and substr(cast(occurred_at as varchar), 14, 1) = ':' and substr(cast(occurred_at as varchar), 17, 1) = ':' then try_cast(cast(occurred_at as varchar) as timestamp) else cast(try_cast(cast(occurred_at as varchar) as timestamptz) as timestamp) end as occurred_at,
        case when try_cast(revenue as double) >= 0 then try_cast(revenue as double) end as revenue
    from raw_events
    where
        coalesce(case when typeof(occurred_at) = 'TIMESTAMP' then try_cast(occurred_at as timestamp) >= date '2026-01-17' else not (cast(occurred_at as varchar) like '____-__-_____:__:__' and cast(occurred_at as varchar) < '2026-01-17') end, true)
        and user_id is not null
        and case when typeof(occurred_at) = 'TIMESTAMP' then try_cast(occurred_at as timestamp) when length(cast(occurred_at as varchar)) = 19 and substr(cast(occurred_at as varchar), 14, 1) = ':' and substr(cast(occurred_at as varchar), 17, 1) = ':' then try_cast(cast(occurred_at as varchar) as timestamp) else cast(try_cast(cast(occurred_at as varchar) as timestamptz) as timestamp) end >= timezone('UTC', current_timestamp) - interval '400 days'
        and case when typeof(occurred_at) = 'TIMESTAMP' then try_cast(occurred_at as timestamp) when length(cast(occurred_at as varchar)) = 19 and substr(cast(occurred_at as varchar), 14, 1) = ':' and substr(cast(occurred_at as varchar), 17, 1) = ':' then try_cast(cast(occurred_at as varchar) as timestamp) else cast(try_cast(cast(occurred_at as varchar) as timestamptz) as timestamp) end >= date '2026-01-17'
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
        occurred_at < date '2026-01-17'
)

-- the rows staged before 2026-01-17, as the table in place has them
select
    *
from stg_events
where
    occurred_at < date '2026-01-17'
    and occurred_at >= timezone('UTC', current_timestamp) - interval '400 days'

union all

-- the raw rows from 2026-01-17 on, staged again
select
    w.*
from window_rows as w
left join staged_keys as k
    on k.event_id = w.event_id
where
    k.event_id is null
