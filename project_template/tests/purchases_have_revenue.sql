-- Every purchase carries a positive order value; each row returned is a purchase that does not.
select event_id, user_id, occurred_at, revenue
from {{ ref('stg_events') }}
where event_type = 'purchase'
  and (revenue is null or revenue <= 0)
