-- The areas whose NHS Talking Therapies figures a PCN is given (the publisher has no PCN level):
-- the sub-ICB or ICB of each member practice, one row per PCN and area with the PCN's registered
-- patients there, its share of the PCN (the blending weight) and its rank (largest share first).
with

members as (select * from {{ ref('int_practices_joined_to_pcns') }}),
list_sizes as (select * from {{ ref('int_practice_list_sizes') }}),
area_level as (select {{ talking_therapies_area_level() }} as area_level),

practice_areas as (
    select
        members.pcn_code,
        case area_level.area_level
            when 'sub_icb' then members.sub_icb_code
            else members.icb_code
        end as area_code,
        case area_level.area_level
            when 'sub_icb' then members.sub_icb_name
            else members.icb_name
        end as area_name,
        coalesce(list_sizes.registered_patients, 0) as registered_patients,
    from members
    cross join area_level
    left join list_sizes using (practice_code)
    where members.pcn_code is not null
),

per_area as (
    select
        pcn_code,
        area_code,
        any_value(area_name order by area_name) as area_name,
        sum(registered_patients) as registered_patients,
    from practice_areas
    group by pcn_code, area_code
    -- an area holding none of the PCN's listed patients gives it no weight (and no blend)
    having sum(registered_patients) > 0
)

select
    per_area.pcn_code,
    area_level.area_level,
    per_area.area_code,
    per_area.area_name,
    per_area.registered_patients,
    round(
        per_area.registered_patients
        / nullif(sum(per_area.registered_patients) over (partition by per_area.pcn_code), 0),
        10
    ) as weight,
    row_number() over (
        partition by per_area.pcn_code order by per_area.registered_patients desc, per_area.area_code
    ) as area_rank,
    count(*) over (partition by per_area.pcn_code) as area_count,
from per_area
cross join area_level
