-- Numerator and denominator of every indicator at PCN, ICB and England level.
-- England uses every record in the source, mapped to a PCN or not (DESIGN.md "PCN membership").
with

pcns as (select * from {{ ref('int_pcns_at_reference_date') }}),
members as (select * from {{ ref('int_practices_joined_to_pcns') }}),
list_sizes as (select * from {{ ref('int_practice_list_sizes') }}),
workforce as (select * from {{ ref('int_pcn_workforce_fte_by_role_group') }}),

-- registered patients of each PCN's member practices (the denominator of FTE rates)
pcn_patients as (
    select
        members.pcn_code,
        any_value(members.icb_code) as icb_code,
        sum(list_sizes.registered_patients) as registered_patients,
    from members
    inner join list_sizes using (practice_code)
    where members.pcn_code is not null
    group by members.pcn_code
),

-- prevalence: QOF register over the list it counts against --------------------------------------
qof_registers as (
    select
        registers.indicator_id,
        qof.practice_code,
        qof.register_count,
        qof.practice_list_size,
        qof.period_start,
        qof.period_end,
        qof.source_status,
    from {{ ref('stg_qof__prevalence_registers') }} as qof
    inner join {{ ref('indicator_qof_registers') }} as registers
        on qof.group_code = registers.group_code
        and qof.patient_list_type = registers.patient_list_type
    qualify qof.vintage = max(qof.vintage) over ()
),

qof_counts as (
    select 'pcn' as geography_type, members.pcn_code as geography_code, qof_registers.*,
    from qof_registers
    inner join members using (practice_code)
    where members.pcn_code is not null
    union all
    select 'icb', members.icb_code, qof_registers.*,
    from qof_registers
    inner join members using (practice_code)
    union all
    select 'england', 'E92000001', qof_registers.*,
    from qof_registers
),

prevalence as (
    select
        geography_type,
        geography_code,
        indicator_id,
        min(period_start) as period_start,
        max(period_end) as period_end,
        sum(register_count) as numerator,
        sum(practice_list_size) as denominator,
        any_value(source_status) as source_status,
    from qof_counts
    group by geography_type, geography_code, indicator_id
),

-- workforce: FTE of the indicator's role groups per registered patient -------------------------
census as (
    select
        date_trunc('month', max(census_date))::date as period_start,
        max(census_date) as period_end,
        any_value(source_status) as source_status,
    from workforce
),

indicator_fte as (
    select roles.indicator_id, workforce.pcn_code, sum(workforce.fte) as fte,
    from workforce
    inner join {{ ref('indicator_role_groups') }} as roles using (role_group)
    group by roles.indicator_id, workforce.pcn_code
),

workforce_indicators as (
    select distinct indicator_id from {{ ref('indicator_role_groups') }}
),

-- a PCN absent from the workforce file employs no PCN staff (the publisher's convention)
pcn_fte as (
    select
        workforce_indicators.indicator_id,
        pcn_patients.pcn_code,
        pcn_patients.icb_code,
        coalesce(indicator_fte.fte, 0) as fte,
        pcn_patients.registered_patients,
    from pcn_patients
    cross join workforce_indicators
    left join indicator_fte
        on indicator_fte.pcn_code = pcn_patients.pcn_code
        and indicator_fte.indicator_id = workforce_indicators.indicator_id
),

fte_rates as (
    select 'pcn' as geography_type, pcn_code as geography_code, indicator_id,
        fte as numerator, registered_patients as denominator,
    from pcn_fte
    union all
    select 'icb', icb_code, indicator_id, sum(fte), sum(registered_patients),
    from pcn_fte
    group by icb_code, indicator_id
    union all
    select 'england', 'E92000001', workforce_indicators.indicator_id,
        coalesce((select sum(fte) from indicator_fte
                  where indicator_fte.indicator_id = workforce_indicators.indicator_id), 0),
        (select sum(registered_patients) from list_sizes),
    from workforce_indicators
),

workforce_counts as (
    select fte_rates.*, census.period_start, census.period_end, census.source_status,
    from fte_rates
    cross join census
),

-- context: registered patients per PCN ---------------------------------------------------------
list_extract as (
    select max(extract_date) as extract_date, any_value(source_status) as source_status,
    from list_sizes
),

list_size as (
    select 'pcn' as geography_type, pcn_code as geography_code,
        registered_patients as numerator, 1 as denominator,
    from pcn_patients
    union all
    select 'icb', icb_code, sum(registered_patients), count(*),
    from pcn_patients
    group by icb_code
    union all
    select 'england', 'E92000001', sum(registered_patients), count(*),
    from pcn_patients
),

context_counts as (
    select
        list_size.*,
        'list_size' as indicator_id,
        list_extract.extract_date as period_start,
        list_extract.extract_date as period_end,
        list_extract.source_status,
    from list_size
    cross join list_extract
)

select
    geography_type, geography_code, indicator_id, period_start, period_end,
    numerator::double as numerator, denominator::double as denominator, source_status,
from prevalence
union all
select
    geography_type, geography_code, indicator_id, period_start, period_end,
    numerator::double, denominator::double, source_status,
from workforce_counts
union all
select
    geography_type, geography_code, indicator_id, period_start, period_end,
    numerator::double, denominator::double, source_status,
from context_counts
