-- OHID's own England IMD score, from the England rows of the practice export.
select
    area_code,
    imd_score,
    time_period,
    vintage,
    source_status,
from {{ source('imd', 'england_scores') }}
