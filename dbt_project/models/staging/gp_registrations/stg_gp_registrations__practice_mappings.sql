select
    practice_code,
    practice_name,
    -- the publisher writes `U` for a practice outside any PCN
    nullif(pcn_code, 'U') as pcn_code,
    case when pcn_code = 'U' then null else pcn_name end as pcn_name,
    sub_icb_code,
    sub_icb_name,
    icb_code,
    icb_name,
    region_code,
    region_name,
    extract_date,
    vintage,
    source_status,
from {{ source('gp_registrations', 'practice_mappings') }}
