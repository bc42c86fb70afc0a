select
    pcn_code,
    pcn_name,
    sub_icb_code,
    sub_icb_name,
    icb_code,
    icb_name,
    region_code,
    region_name,
    practice_count::integer as practice_count,
    registered_patients::bigint as registered_patients,
    is_open_in_epcn,
    has_member_practices,
    membership_source,
from {{ ref('int_pcns_at_reference_date') }}
order by pcn_code
