-- Registered patients per practice from the latest list-size vintage on or before the period.
select
    practice_code,
    registered_patients,
    extract_date,
    vintage,
    source_status,
from {{ ref('stg_gp_registrations__list_sizes') }}
qualify vintage = max(vintage) over ()
