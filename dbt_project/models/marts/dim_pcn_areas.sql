-- The areas (sub-ICBs or ICBs) each PCN's NHS Talking Therapies figures are attributed from,
-- with the PCN's registered patients in each and the blending weight (the PCN page names them).
select
    pcn_code,
    area_level,
    area_code,
    area_name,
    registered_patients::bigint as registered_patients,
    weight::double as weight,
    area_rank::integer as area_rank,
    area_count::integer as area_count,
from {{ ref('int_pcn_attribution_areas') }}
order by pcn_code, area_rank
