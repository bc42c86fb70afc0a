select
    practice_code,
    sub_icb_code,
    registered_patients::bigint as registered_patients,
    extract_date,
    vintage,
    source_status,
from {{ source('gp_registrations', 'list_sizes') }}
