-- `sign_up`: each entity's first step-1 event in each bucket of `events` where event_type = 'sign_up'
with recursive signup_to_purchase_funnel__sign_up as (
    select
        e.user_id,
        min(e.occurred_at) as sign_up_at
    from stg_events as e
    where
        e.event_type = 'sign_up'
    group by
        e.user_id,
        cast(date_trunc('week', e.occurred_at) as date)
),

-- funnel `signup_to_purchase`: one row per funnel start (each entity's first step-1 event in each bucket) with the time of each step reached; `purchase`: the first such event after `sign_up` and within 7 day(s) of `sign_up`
signup_to_purchase_funnel as (
    select
        p.user_id,
        p.sign_up_at,
        min(e.occurred_at) as purchase_at
    from signup_to_purchase_funnel__sign_up as p
    left join stg_events as e
        on e.user_id = p.user_id and e.event_type = 'purchase' and e.occurred_at > p.sign_up_at and e.occurred_at <= dateadd(day, 7, p.sign_up_at)
    group by
        p.user_id,
        p.sign_up_at
),

-- activation `activation`: each user_id's first anchor event (event_type = 'sign_up')
activation_anchors as (
    select
        e.user_id,
        min(e.occurred_at) as anchored_at
    from stg_events as e
    where
        e.event_type = 'sign_up'
    group by
        e.user_id
),

-- activation `activation`: per anchored user_id, the actions done within 7 day(s) of the anchor
activation_cohort as (
    select
        a.user_id,
        a.anchored_at,
        -- `purchased`: event_type = 'purchase'
        max(case when e.event_type = 'purchase' and e.occurred_at >= a.anchored_at and e.occurred_at < dateadd(day, 7, a.anchored_at) then 1 else 0 end) as purchased_done,
        -- `big_purchase`: revenue > 100
        max(case when e.revenue > 100 and e.occurred_at >= a.anchored_at and e.occurred_at < dateadd(day, 7, a.anchored_at) then 1 else 0 end) as big_purchase_done,
        -- 1 when the 7 day(s) are over by the last event of `events`
        case when dateadd(day, 7, a.anchored_at) <= (select max(occurred_at) from stg_events) then 1 else 0 end as window_complete
    from activation_anchors as a
    left join stg_events as e
        on e.user_id = a.user_id
    group by
        a.user_id,
        a.anchored_at
),

-- every day from the first to the last date in the data (UTC), so that a day without rows is a row
spine as (
    select cast(least((select min(cast(date_trunc('day', sign_up_at) as date)) from signup_to_purchase_funnel), (select min(cast(date_trunc('day', anchored_at) as date)) from activation_cohort)) as date) as spine_day, cast(greatest((select max(cast(date_trunc('day', sign_up_at) as date)) from signup_to_purchase_funnel), (select max(cast(date_trunc('day', anchored_at) as date)) from activation_cohort)) as date) as spine_day_end
    union all
    select dateadd(day, 1, spine_day), spine_day_end from spine where spine_day < spine_day_end
),

-- one pass over `signup_to_purchase_funnel` per key: user_id_count, purchase_count
signup_to_purchase_funnel_values as (
    select
        cast(date_trunc('week', e.sign_up_at) as date) as metric_time__week,
        count(distinct e.user_id) as user_id_count,
        count(distinct case when e.purchase_at is not null then e.user_id end) as purchase_count
    from signup_to_purchase_funnel as e
    group by
        cast(date_trunc('week', e.sign_up_at) as date)
),

-- one pass over `activation_cohort` per key: anchored, activated, undecided
activation_cohort_values as (
    select
        cast(date_trunc('week', e.anchored_at) as date) as metric_time__week,
        count(distinct case when e.window_complete = 1 then e.user_id end) as anchored,
        count(distinct case when e.window_complete = 1 and e.purchased_done + e.big_purchase_done >= 1 then e.user_id end) as activated,
        count(distinct case when e.window_complete = 0 then e.user_id end) as undecided
    from activation_cohort as e
    group by
        cast(date_trunc('week', e.anchored_at) as date)
),

-- every period of the range
query_keys as (
    select distinct
        cast(date_trunc('week', spine_day) as date) as metric_time__week
    from spine
)

select
    k.metric_time__week,
    -- share of user_id doing sign_up then purchase within 7 day(s) of sign_up, over events (metrics.yml:42:5)
    coalesce(signup_to_purchase_funnel_values.purchase_count, 0) / nullif(coalesce(signup_to_purchase_funnel_values.user_id_count, 0), 0) as signup_to_purchase,
    -- user_id that reached step 1 `sign_up`
    coalesce(signup_to_purchase_funnel_values.user_id_count, 0) as signup_to_purchase__sign_up,
    -- user_id that reached step 2 `purchase`
    coalesce(signup_to_purchase_funnel_values.purchase_count, 0) as signup_to_purchase__purchase,
    -- share of those at `sign_up` who did not reach `purchase`
    1 - coalesce(signup_to_purchase_funnel_values.purchase_count, 0) / nullif(coalesce(signup_to_purchase_funnel_values.user_id_count, 0), 0) as signup_to_purchase__purchase_dropoff,
    -- share of user_id doing 1 of purchased, big_purchase within 7 day(s) of event_type = 'sign_up', over events (metrics.yml:49:5)
    coalesce(activation_cohort_values.activated, 0) / nullif(coalesce(activation_cohort_values.anchored, 0), 0) as activation,
    -- user_id anchored in the bucket whose 7 day(s) are over by the last event
    coalesce(activation_cohort_values.anchored, 0) as activation__anchored,
    -- of those, user_id that did at least 1 of the actions
    coalesce(activation_cohort_values.activated, 0) as activation__activated,
    -- user_id anchored in the bucket whose 7 day(s) are not over yet (left out)
    coalesce(activation_cohort_values.undecided, 0) as activation__undecided
from query_keys as k
left join signup_to_purchase_funnel_values
    on signup_to_purchase_funnel_values.metric_time__week is not distinct from k.metric_time__week
left join activation_cohort_values
    on activation_cohort_values.metric_time__week is not distinct from k.metric_time__week
order by
    k.metric_time__week nulls last
