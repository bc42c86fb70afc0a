select
    pcn_code,
    pcn_name,
    sub_icb_code,
    open_date,
    close_date,
    vintage,
    source_status,
from {{ source('ods_epcn', 'pcns') }}
