-- PCN-employed FTE and headcount by PCN, role group and census (every landed census on or before
-- the period: the latest for the headline figures, the others for the trend). A role carrying the ARRS mental health practitioner suffix counts in the
-- mental_health_practitioner group only (never twice); a label not in the seed is 'unmapped'.
with

staff as (
    select * from {{ ref('stg_pcn_workforce__staff_records') }}
),

roles as (
    select * from {{ ref('pcn_workforce_role_groups') }}
),

grouped as (
    select
        staff.*,
        case
            when regexp_matches(
                staff.detailed_staff_role,
                '\(Mental Health Practitioner - (Adult|Children and Young People)\)$'
            ) then 'mental_health_practitioner'
            else coalesce(roles.role_group, 'unmapped')
        end as role_group,
    from staff
    left join roles
        on staff.staff_group = roles.staff_group
        and staff.staff_role = roles.staff_role
        and staff.detailed_staff_role = roles.detailed_staff_role
)

select
    pcn_code,
    role_group,
    census_date,
    vintage,
    any_value(source_status) as source_status,
    coalesce(sum(fte), 0) as fte,
    count(distinct unique_identifier) as headcount,
from grouped
group by pcn_code, role_group, census_date, vintage
