select
    practice_code,
    imd_score,
    time_period,
    vintage,
    source_status,
from {{ source('imd', 'practice_scores') }}
