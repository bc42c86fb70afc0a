select
    practice_code,
    group_code,
    register::bigint as register_count,
    patient_list_type,
    practice_list_size::bigint as practice_list_size,
    period_start,
    period_end,
    vintage,
    source_status,
from {{ source('qof', 'prevalence') }}
