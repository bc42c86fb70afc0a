-- Numerator and denominator of every indicator at PCN, ICB and England level.
-- England uses every record in the source, mapped to a PCN or not (DESIGN.md "PCN membership").
with

pcns as (select * from {{ ref('int_pcns_at_reference_date') }}),
members as (select * from {{ ref('int_practices_joined_to_pcns') }}),
list_sizes as (select * from {{ ref('int_practice_list_sizes') }}),
qof as (select * from {{ ref('int_qof_registers_by_practice') }}),
workforce as (select * from {{ ref('int_pcn_workforce_fte_by_role_group') }}),

qof_year as (
    select
        min(period_start) as period_start,
        max(period_end) as period_end,
        any_value(source_status) as source_status,
    from qof
),

census as (
    select
        date_trunc('month', max(census_date))::date as period_start,
        max(census_date) as period_end,
        any_value(source_status) as source_status,
    from workforce
),

-- smi_prevalence: QOF MH register over the TOTAL list -------------------------------------------
smi_pcn as (
    select
        'pcn' as geography_type,
        pcns.pcn_code as geography_code,
        sum(qof.mh_register) as numerator,
        sum(qof.total_list) as denominator,
    from pcns
    left join members on members.pcn_code = pcns.pcn_code
    left join qof on qof.practice_code = members.practice_code
    group by pcns.pcn_code
),

smi_icb as (
    select
        'icb' as geography_type,
        members.icb_code as geography_code,
        sum(qof.mh_register) as numerator,
        sum(qof.total_list) as denominator,
    from members
    inner join qof on qof.practice_code = members.practice_code
    group by members.icb_code
),

smi_england as (
    select
        'england' as geography_type,
        'E92000001' as geography_code,
        sum(mh_register) as numerator,
        sum(total_list) as denominator,
    from qof
),

smi as (
    select
        counts.*,
        'smi_prevalence' as indicator_id,
        qof_year.period_start,
        qof_year.period_end,
        qof_year.source_status,
    from (
        select * from smi_pcn
        union all select * from smi_icb
        union all select * from smi_england
    ) as counts
    cross join qof_year
),

-- mhp_fte_per_10k: FTE of ARRS mental health practitioners over registered patients -------------
mhp_fte as (
    select pcn_code, sum(fte) as fte,
    from workforce
    where role_group = 'mental_health_practitioner'
    group by pcn_code
),

pcn_patients as (
    select members.pcn_code, sum(list_sizes.registered_patients) as registered_patients,
    from members
    inner join list_sizes using (practice_code)
    where members.pcn_code is not null
    group by members.pcn_code
),

mhp_pcn as (
    select
        'pcn' as geography_type,
        pcns.pcn_code as geography_code,
        -- a PCN absent from the workforce file employs no PCN staff (publisher's convention)
        case when pcn_patients.registered_patients > 0 then coalesce(mhp_fte.fte, 0) end
            as numerator,
        pcn_patients.registered_patients as denominator,
    from pcns
    left join pcn_patients using (pcn_code)
    left join mhp_fte using (pcn_code)
),

mhp_icb as (
    select
        'icb' as geography_type,
        pcns.icb_code as geography_code,
        sum(coalesce(mhp_fte.fte, 0)) as numerator,
        sum(pcn_patients.registered_patients) as denominator,
    from pcns
    inner join pcn_patients using (pcn_code)
    left join mhp_fte using (pcn_code)
    group by pcns.icb_code
),

mhp_england as (
    select
        'england' as geography_type,
        'E92000001' as geography_code,
        (select coalesce(sum(fte), 0) from mhp_fte) as numerator,
        (select sum(registered_patients) from list_sizes) as denominator,
),

mhp as (
    select
        counts.*,
        'mhp_fte_per_10k' as indicator_id,
        census.period_start,
        census.period_end,
        census.source_status,
    from (
        select * from mhp_pcn
        union all select * from mhp_icb
        union all select * from mhp_england
    ) as counts
    cross join census
)

select
    geography_type,
    geography_code,
    indicator_id,
    period_start,
    period_end,
    numerator::double as numerator,
    denominator::double as denominator,
    source_status,
from smi
union all
select
    geography_type,
    geography_code,
    indicator_id,
    period_start,
    period_end,
    numerator::double,
    denominator::double,
    source_status,
from mhp
