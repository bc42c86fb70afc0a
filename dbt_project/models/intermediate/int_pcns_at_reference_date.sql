-- Every PCN to publish: those with practices in the membership source, and those ePCN lists as
-- open at the reference date (a PCN with no practices keeps its page and says so).
with

members as (
    select * from {{ ref('int_practices_joined_to_pcns') }}
    where pcn_code is not null
),

list_sizes as (
    select * from {{ ref('int_practice_list_sizes') }}
),

epcn_pcns as (
    select * from {{ ref('stg_ods_epcn__pcns') }}
    qualify vintage = max(vintage) over ()
),

epcn_open as (
    select pcn_code, pcn_name, sub_icb_code,
    from epcn_pcns
    where open_date <= {{ reference_date() }}
        and (close_date is null or close_date > {{ reference_date() }})
),

member_totals as (
    select
        members.pcn_code,
        count(*) as practice_count,
        sum(coalesce(list_sizes.registered_patients, 0)) as registered_patients,
        any_value(members.membership_source) as membership_source,
        any_value(members.membership_vintage) as membership_vintage,
    from members
    left join list_sizes using (practice_code)
    group by members.pcn_code
),

-- a PCN spanning sub-ICBs is placed in the one holding most of its registered patients
member_geography as (
    select pcn_code, sub_icb_code, sub_icb_name, icb_code, icb_name, region_code, region_name,
    from (
        select
            members.pcn_code,
            members.sub_icb_code,
            members.sub_icb_name,
            members.icb_code,
            members.icb_name,
            members.region_code,
            members.region_name,
            sum(coalesce(list_sizes.registered_patients, 0)) as patients,
        from members
        left join list_sizes using (practice_code)
        group by all
    )
    qualify row_number() over (partition by pcn_code order by patients desc, sub_icb_code) = 1
),

-- the PCN's name as the membership source writes it (one spelling per vintage; min() for determinism)
member_names as (
    select pcn_code, min(pcn_name) as pcn_name,
    from members
    where pcn_name is not null
    group by pcn_code
),

sub_icb_geography as (
    select distinct sub_icb_code, sub_icb_name, icb_code, icb_name, region_code, region_name,
    from {{ ref('int_practices_joined_to_pcns') }}
),

all_codes as (
    select pcn_code from member_totals
    union
    select pcn_code from epcn_open
)

select
    all_codes.pcn_code,
    coalesce(member_names.pcn_name, epcn_open.pcn_name, epcn_all.pcn_name) as pcn_name,
    coalesce(member_geography.sub_icb_code, epcn_open.sub_icb_code) as sub_icb_code,
    coalesce(member_geography.sub_icb_name, fallback.sub_icb_name) as sub_icb_name,
    coalesce(member_geography.icb_code, fallback.icb_code) as icb_code,
    coalesce(member_geography.icb_name, fallback.icb_name) as icb_name,
    coalesce(member_geography.region_code, fallback.region_code) as region_code,
    coalesce(member_geography.region_name, fallback.region_name) as region_name,
    coalesce(member_totals.practice_count, 0) as practice_count,
    coalesce(member_totals.registered_patients, 0) as registered_patients,
    epcn_open.pcn_code is not null as is_open_in_epcn,
    member_totals.pcn_code is not null as has_member_practices,
    coalesce(
        member_totals.membership_source,
        (select any_value(membership_source) from {{ ref('int_practices_joined_to_pcns') }})
    ) as membership_source,
from all_codes
left join member_totals using (pcn_code)
left join member_geography using (pcn_code)
left join member_names using (pcn_code)
left join epcn_open using (pcn_code)
left join epcn_pcns as epcn_all using (pcn_code)
left join sub_icb_geography as fallback on epcn_open.sub_icb_code = fallback.sub_icb_code
