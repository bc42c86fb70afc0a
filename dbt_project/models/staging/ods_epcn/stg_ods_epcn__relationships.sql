select
    practice_code,
    practice_name,
    practice_sub_icb_code,
    pcn_code,
    pcn_sub_icb_code,
    start_date,
    end_date,
    vintage,
    source_status,
from {{ source('ods_epcn', 'relationships') }}
