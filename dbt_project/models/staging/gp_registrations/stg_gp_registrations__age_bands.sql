select
    org_code as practice_code,
    sex,
    age_group,
    registered_patients,
    extract_date,
    vintage,
    source_status,
from {{ source('gp_registrations', 'age_bands') }}
where org_type = 'GP'
