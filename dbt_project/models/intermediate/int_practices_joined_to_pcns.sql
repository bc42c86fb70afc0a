-- Practice-to-PCN membership at the reference date (docs/ARCHITECTURE.md "PCN membership"): the newer of the
-- registrations practice map and ePCN's relationship spells decides; a PCN's sub-ICB and ICB come
-- from the same source (ePCN gives sub-ICB only, so its ICB is looked up from the practice map).
with

prac_map as (
    select * from {{ ref('stg_gp_registrations__practice_mappings') }}
    qualify vintage = max(vintage) over ()
),

epcn_spells as (
    select * from {{ ref('stg_ods_epcn__relationships') }}
    qualify vintage = max(vintage) over ()
),

epcn_pcns as (
    select * from {{ ref('stg_ods_epcn__pcns') }}
    qualify vintage = max(vintage) over ()
),

sub_icb_geography as (
    select distinct sub_icb_code, sub_icb_name, icb_code, icb_name, region_code, region_name,
    from prac_map
),

chosen as (
    select
        case
            when coalesce((select max(vintage) from prac_map), '0000-00')
                >= coalesce((select max(vintage) from epcn_spells), '0000-00')
                then 'gp_registrations'
            else 'ods_epcn'
        end as membership_source,
),

from_map as (
    select
        practice_code,
        practice_name,
        pcn_code,
        pcn_name,
        sub_icb_code,
        sub_icb_name,
        icb_code,
        icb_name,
        region_code,
        region_name,
        'gp_registrations' as membership_source,
        vintage as membership_vintage,
    from prac_map
),

from_epcn as (
    select
        spells.practice_code,
        spells.practice_name,
        spells.pcn_code,
        epcn_pcns.pcn_name,
        spells.practice_sub_icb_code as sub_icb_code,
        geo.sub_icb_name,
        geo.icb_code,
        geo.icb_name,
        geo.region_code,
        geo.region_name,
        'ods_epcn' as membership_source,
        spells.vintage as membership_vintage,
    from epcn_spells as spells
    left join epcn_pcns on epcn_pcns.pcn_code = spells.pcn_code
    left join sub_icb_geography as geo on spells.practice_sub_icb_code = geo.sub_icb_code
    where spells.start_date <= {{ reference_date() }}
        and (spells.end_date is null or spells.end_date >= {{ reference_date() }})
    -- a practice in two PCNs at once (overlapping spells: 7 in the real Jan 2025 file) belongs to
    -- the latest-starting one, as in the trend (int_workforce_trend_counts)
    qualify row_number() over (
        partition by spells.practice_code order by spells.start_date desc, spells.pcn_code
    ) = 1
)

select * from from_map where (select membership_source from chosen) = 'gp_registrations'
union all
select * from from_epcn where (select membership_source from chosen) = 'ods_epcn'
