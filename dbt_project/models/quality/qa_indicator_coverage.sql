-- Latest period of each indicator the sources carry: how many PCNs have a value. Suppressed
-- rows count as covered (their value is withheld, not missing).
select
    indicator_id,
    period_start,
    count(*) as pcns,
    count(*) filter (where value is not null or is_suppressed) as pcns_with_value,
    count(*) filter (where value is not null or is_suppressed) / count(*) as share_with_value,
from {{ ref('fct_pcn_indicators') }}
where england_value is not null
group by indicator_id, period_start
qualify period_start = max(period_start) over (partition by indicator_id)
