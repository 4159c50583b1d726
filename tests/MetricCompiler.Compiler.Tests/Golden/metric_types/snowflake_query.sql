-- when each user_id first had a row where event_type = 'sign_up'
with recursive d7_retention_first_seen as (
    select
        e.user_id,
        min(e.occurred_at) as cohort_at
    from stg_events as e
    where
        e.event_type = 'sign_up'
    group by
        e.user_id
),

-- whether each cohort member returned on days 1..7 (Europe/Berlin days, the cohort day being day 0)
d7_retention_members as (
    select
        c.user_id,
        c.cohort_at,
        max(case when datediff(day, cast(date_trunc('day', convert_timezone('UTC', 'Europe/Berlin', c.cohort_at)) as date), cast(date_trunc('day', convert_timezone('UTC', 'Europe/Berlin', e.occurred_at)) as date)) between 1 and 7 then 1 else 0 end) as retained
    from d7_retention_first_seen as c
    inner join stg_events as e
        on e.user_id = c.user_id
    group by
        c.user_id,
        c.cohort_at
),

-- `d7_retention`: one row per cohort member of `events`
d7_retention_cohorts as (
    select
        user_id,
        cohort_at,
        retained,
        -- 0 when day 7 of the cohort is after the last date in the data
        case when dateadd(day, 7, cast(date_trunc('day', convert_timezone('UTC', 'Europe/Berlin', cohort_at)) as date)) <= (select max(cast(date_trunc('day', convert_timezone('UTC', 'Europe/Berlin', occurred_at)) as date)) from stg_events) then 1 else 0 end as complete
    from d7_retention_members
),

-- each row with the time of the user_id's previous row
sessions_per_user_previous as (
    select
        e.user_id,
        e.occurred_at,
        lag(e.occurred_at) over (partition by e.user_id order by e.occurred_at nulls last) as previous_at
    from stg_events as e
),

-- a row starts a session when it is the user_id's first or comes 1800 seconds or more after the previous one
sessions_per_user_starts as (
    select
        user_id,
        occurred_at,
        case when previous_at is null or cast(datediff(millisecond, previous_at, occurred_at) as double) / 1000 >= 1800 then 1 else 0 end as starts_session
    from sessions_per_user_previous
),

-- sessions numbered by a running count of starts
sessions_per_user_numbered as (
    select
        user_id,
        occurred_at,
        sum(starts_session) over (partition by user_id order by occurred_at nulls last, starts_session desc nulls last) as session_number
    from sessions_per_user_starts
),

-- `sessions_per_user`: one row per session of `events` by a 30-minute gap
sessions_per_user_sessions as (
    select
        user_id,
        session_number as session_key,
        min(occurred_at) as session_start,
        count(*) as events,
        cast(datediff(millisecond, min(occurred_at), max(occurred_at)) as double) / 1000 as duration_seconds,
        case when count(*) = 1 then 1 else 0 end as bounced
    from sessions_per_user_numbered
    group by
        user_id,
        session_number
),

-- each row with the time of the user_id's previous row
session_seconds_previous as (
    select
        e.user_id,
        e.occurred_at,
        lag(e.occurred_at) over (partition by e.user_id order by e.occurred_at nulls last) as previous_at
    from stg_events as e
),

-- a row starts a session when it is the user_id's first or comes 1800 seconds or more after the previous one
session_seconds_starts as (
    select
        user_id,
        occurred_at,
        case when previous_at is null or cast(datediff(millisecond, previous_at, occurred_at) as double) / 1000 >= 1800 then 1 else 0 end as starts_session
    from session_seconds_previous
),

-- sessions numbered by a running count of starts
session_seconds_numbered as (
    select
        user_id,
        occurred_at,
        sum(starts_session) over (partition by user_id order by occurred_at nulls last, starts_session desc nulls last) as session_number
    from session_seconds_starts
),

-- `session_seconds`: one row per session of `events` by a 30-minute gap
session_seconds_sessions as (
    select
        user_id,
        session_number as session_key,
        min(occurred_at) as session_start,
        count(*) as events,
        cast(datediff(millisecond, min(occurred_at), max(occurred_at)) as double) / 1000 as duration_seconds,
        case when count(*) = 1 then 1 else 0 end as bounced
    from session_seconds_numbered
    group by
        user_id,
        session_number
),

-- every day from the first to the last date in the data (Europe/Berlin), so that a day without rows is a row
spine as (
    select cast(least((select min(cast(date_trunc('day', convert_timezone('UTC', 'Europe/Berlin', cohort_at)) as date)) from d7_retention_cohorts), (select min(cast(date_trunc('day', convert_timezone('UTC', 'Europe/Berlin', session_start)) as date)) from sessions_per_user_sessions), (select min(cast(date_trunc('day', convert_timezone('UTC', 'Europe/Berlin', session_start)) as date)) from session_seconds_sessions), (select min(cast(date_trunc('day', convert_timezone('UTC', 'Europe/Berlin', occurred_at)) as date)) from stg_events)) as date) as spine_day, cast(greatest((select max(cast(date_trunc('day', convert_timezone('UTC', 'Europe/Berlin', cohort_at)) as date)) from d7_retention_cohorts), (select max(cast(date_trunc('day', convert_timezone('UTC', 'Europe/Berlin', session_start)) as date)) from sessions_per_user_sessions), (select max(cast(date_trunc('day', convert_timezone('UTC', 'Europe/Berlin', session_start)) as date)) from session_seconds_sessions), (select max(cast(date_trunc('day', convert_timezone('UTC', 'Europe/Berlin', occurred_at)) as date)) from stg_events)) as date) as spine_day_end
    union all
    select dateadd(day, 1, spine_day), spine_day_end from spine where spine_day < spine_day_end
),

-- one pass over `d7_retention_cohorts` per key: d7_retention_retained, d7_retention_cohort
d7_retention_cohorts_values as (
    select
        cast(date_trunc('week', convert_timezone('UTC', 'Europe/Berlin', e.cohort_at)) as date) as metric_time__week,
        sum(case when e.complete = 1 then e.retained end) as d7_retention_retained,
        count(case when e.complete = 1 then 1 end) as d7_retention_cohort
    from d7_retention_cohorts as e
    group by
        cast(date_trunc('week', convert_timezone('UTC', 'Europe/Berlin', e.cohort_at)) as date)
),

-- one pass over `sessions_per_user_sessions` per key: sessions_per_user_sessions, user_id_count
sessions_per_user_sessions_values as (
    select
        cast(date_trunc('week', convert_timezone('UTC', 'Europe/Berlin', e.session_start)) as date) as metric_time__week,
        count(*) as sessions_per_user_sessions,
        count(distinct e.user_id) as user_id_count
    from sessions_per_user_sessions as e
    group by
        cast(date_trunc('week', convert_timezone('UTC', 'Europe/Berlin', e.session_start)) as date)
),

-- one pass over `session_seconds_sessions` per key: session_seconds
session_seconds_sessions_values as (
    select
        cast(date_trunc('week', convert_timezone('UTC', 'Europe/Berlin', e.session_start)) as date) as metric_time__week,
        avg(cast(e.duration_seconds as double)) as session_seconds
    from session_seconds_sessions as e
    group by
        cast(date_trunc('week', convert_timezone('UTC', 'Europe/Berlin', e.session_start)) as date)
),

-- one pass over `events` per key: p95_page_load
events_values as (
    select
        cast(date_trunc('week', convert_timezone('UTC', 'Europe/Berlin', e.occurred_at)) as date) as metric_time__week,
        percentile_cont(0.95) within group (order by case when e.event_type = 'page_view' then cast(e.page_load_ms as double) end) as p95_page_load
    from stg_events as e
    group by
        cast(date_trunc('week', convert_timezone('UTC', 'Europe/Berlin', e.occurred_at)) as date)
),

-- every period of the range
query_keys as (
    select distinct
        cast(date_trunc('week', spine_day) as date) as metric_time__week
    from spine
)

select
    k.metric_time__week,
    -- share of events cohorts (first row where event_type = 'sign_up') returning on days 1..7 (metrics.yml:23:5)
    coalesce(d7_retention_cohorts_values.d7_retention_retained, 0) / nullif(coalesce(d7_retention_cohorts_values.d7_retention_cohort, 0), 0) as d7_retention,
    -- sessions per entity of events by a 30-minute gap (metrics.yml:24:5)
    coalesce(sessions_per_user_sessions_values.sessions_per_user_sessions, 0) / nullif(coalesce(sessions_per_user_sessions_values.user_id_count, 0), 0) as sessions_per_user,
    -- mean session seconds of events by a 30-minute gap (metrics.yml:25:5)
    session_seconds_sessions_values.session_seconds,
    -- percentile 0.95 of page_load_ms over events where event_type = 'page_view' (metrics.yml:26:5)
    events_values.p95_page_load
from query_keys as k
left join d7_retention_cohorts_values
    on d7_retention_cohorts_values.metric_time__week is not distinct from k.metric_time__week
left join sessions_per_user_sessions_values
    on sessions_per_user_sessions_values.metric_time__week is not distinct from k.metric_time__week
left join session_seconds_sessions_values
    on session_seconds_sessions_values.metric_time__week is not distinct from k.metric_time__week
left join events_values
    on events_values.metric_time__week is not distinct from k.metric_time__week
order by
    k.metric_time__week nulls last
