{{ config(materialized='view') }}
-- Page views that carry a load time: what the page-performance dashboard reads (through the source `page_loads`).
select
    event_id,
    user_id,
    occurred_at,
    page,
    page_load_ms
from {{ ref('stg_events') }}
where event_type = 'page_view'
  and page_load_ms is not null
