-- Numerator and denominator of every indicator at PCN, ICB and England level.
-- England uses every record in the source, mapped to a PCN or not (docs/ARCHITECTURE.md "PCN membership").
with

pcns as (select * from {{ ref('int_pcns_at_reference_date') }}),
members as (select * from {{ ref('int_practices_joined_to_pcns') }}),
list_sizes as (select * from {{ ref('int_practice_list_sizes') }}),
workforce as (
    select * from {{ ref('int_pcn_workforce_fte_by_role_group') }}
    qualify vintage = max(vintage) over ()  -- earlier censuses: int_workforce_trend_counts
),

-- registered patients of each PCN's member practices (the denominator of FTE rates)
pcn_patients as (
    select
        members.pcn_code,
        pcns.icb_code,  -- the PCN's own ICB (its majority sub-ICB's), even if it spans two
        sum(list_sizes.registered_patients) as registered_patients,
    from members
    inner join list_sizes using (practice_code)
    inner join pcns using (pcn_code)
    group by members.pcn_code, pcns.icb_code
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

-- PCNs with at least one staff record in the census
reporting_pcns as (select distinct pcn_code from workforce),

-- a PCN in the census without a role has none of it (0); a PCN absent from the census is not
-- reported (null), never 0
pcn_fte as (
    select
        workforce_indicators.indicator_id,
        pcn_patients.pcn_code,
        pcn_patients.icb_code,
        case
            when reporting_pcns.pcn_code is not null then coalesce(indicator_fte.fte, 0)
        end as fte,
        pcn_patients.registered_patients,
    from pcn_patients
    cross join workforce_indicators
    left join reporting_pcns using (pcn_code)
    left join indicator_fte
        on indicator_fte.pcn_code = pcn_patients.pcn_code
        and indicator_fte.indicator_id = workforce_indicators.indicator_id
),

fte_rates as (
    -- a PCN not reported has neither FTE nor a denominator, so pooling it (peers) adds nothing
    select 'pcn' as geography_type, pcn_code as geography_code, indicator_id,
        fte as numerator, case when fte is not null then registered_patients end as denominator,
    from pcn_fte
    union all
    -- ICB: the FTE of its PCNs in the census over their registered patients
    select 'icb', icb_code, indicator_id,
        sum(fte), sum(registered_patients) filter (where fte is not null),
    from pcn_fte
    group by icb_code, indicator_id
    union all
    -- England: every FTE record in the census over every registered patient, as the publisher
    -- totals it (staff of PCNs outside the membership included)
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

-- workforce against recorded need: mental-health-role FTE per 1,000 patients on the QOF SMI
-- (MH) and depression (DEP) registers of the same practices (latest QOF year, census month)
pcn_registers as (
    select members.pcn_code, sum(qof_registers.register_count) as registers,
    from qof_registers
    inner join members using (practice_code)
    where members.pcn_code is not null
    group by members.pcn_code
),

pcn_need as (
    select pcn_fte.pcn_code, pcn_fte.icb_code, pcn_fte.fte, pcn_registers.registers,
    from pcn_fte
    inner join pcn_registers using (pcn_code)
    where pcn_fte.indicator_id = 'mh_roles_fte_per_10k'
),

-- as the FTE rates: a PCN not reported has no figure; an ICB pools its PCNs in the census
register_patients as (
    select 'pcn' as geography_type, pcn_code as geography_code, fte as numerator,
        case when fte is not null then registers end as denominator,
    from pcn_need
    union all
    select 'icb', icb_code, sum(fte), sum(registers) filter (where fte is not null),
    from pcn_need
    group by icb_code
    union all
    select 'england', 'E92000001',
        (select numerator from fte_rates
         where geography_type = 'england' and indicator_id = 'mh_roles_fte_per_10k'),
        sum(register_count),
    from qof_registers
),

need_counts as (
    select
        register_patients.geography_type,
        register_patients.geography_code,
        'mh_roles_fte_per_1k_mh_register' as indicator_id,
        register_patients.numerator,
        case when register_patients.numerator is not null then register_patients.denominator end
            as denominator,
        census.period_start,
        census.period_end,
        case
            when census.source_status = 'synthetic'
                or (select bool_or(source_status = 'synthetic') from qof_registers)
                then 'synthetic'
            when census.source_status = 'rebuilt'
                or (select bool_or(source_status = 'rebuilt') from qof_registers)
                then 'rebuilt'
            else census.source_status
        end as source_status,
    from register_patients
    cross join census
),

-- GP FTE per registered patient (practice workforce: numerator and denominator from the same
-- file, over practices with a GP figure, as the publisher computes its own rates) --------------
gp_workforce_release as (
    select * from {{ ref('stg_gp_workforce__practice_ftes') }}
    qualify vintage = max(vintage) over ()
),

gp_workforce as (
    select * from gp_workforce_release
    where total_gp_fte is not null and total_patients > 0
),

gp_fte as (
    select 'pcn' as geography_type, members.pcn_code as geography_code,
        sum(gp_workforce.total_gp_fte) as numerator, sum(gp_workforce.total_patients) as denominator,
    from gp_workforce
    inner join members using (practice_code)
    where members.pcn_code is not null
    group by members.pcn_code
    union all
    select 'icb', members.icb_code, sum(gp_workforce.total_gp_fte), sum(gp_workforce.total_patients),
    from gp_workforce
    inner join members using (practice_code)
    group by members.icb_code
    union all
    select 'england', 'E92000001', sum(total_gp_fte), sum(total_patients),
    from gp_workforce
),

gp_workforce_counts as (
    select
        gp_fte.*,
        'gp_fte_per_10k' as indicator_id,
        census.period_start,
        census.period_end,
        census.source_status,
    from gp_fte
    cross join (
        select
            cast(vintage || '-01' as date) as period_start,
            last_day(cast(vintage || '-01' as date)) as period_end,
            source_status,
        -- the release, not only its practices with a figure: a file whose every GP FTE is 'NA'
        -- still gives England (and so every PCN) a "not available" row for its month
        from gp_workforce_release
        limit 1
    ) as census
),

-- deprivation: IMD 2019 score, registered-list-weighted mean over practices with a score -------
imd_scores as (
    select imd.practice_code, imd.imd_score, list_sizes.registered_patients, imd.source_status,
        imd.vintage,
    from {{ ref('stg_imd__practice_scores') }} as imd
    inner join list_sizes using (practice_code)
    where imd.imd_score is not null
    qualify imd.vintage = max(imd.vintage) over ()
),

imd as (
    select 'pcn' as geography_type, members.pcn_code as geography_code,
        sum(imd_score * registered_patients) as numerator, sum(registered_patients) as denominator,
    from imd_scores
    inner join members using (practice_code)
    where members.pcn_code is not null
    group by members.pcn_code
    union all
    select 'icb', members.icb_code, sum(imd_score * registered_patients), sum(registered_patients),
    from imd_scores
    inner join members using (practice_code)
    group by members.icb_code
    union all
    -- England is OHID's own England score (published beside the practice scores), not a mean
    -- of practices: a score of 1 over a denominator of 1
    select 'england', 'E92000001', england.imd_score, 1,
    from {{ ref('stg_imd__england_scores') }} as england
    qualify england.vintage = max(england.vintage) over ()
),

imd_counts as (
    select
        imd.*,
        'imd_score' as indicator_id,
        -- IMD 2019 was published in September 2019 (its period in the landing zone)
        cast(vintage || '-01' as date) as period_start,
        last_day(cast(vintage || '-01' as date)) as period_end,
        source_status,
    from imd
    cross join (select any_value(vintage) as vintage, any_value(source_status) as source_status,
                from imd_scores) as release
),

-- context: registered patients per PCN ---------------------------------------------------------
list_extract as (
    select max(extract_date) as extract_date, any_value(source_status) as source_status,
    from list_sizes
),

-- the PCN's, the ICB's and England's registered patients (England: every practice in the
-- list-size file, in a PCN or not)
list_size as (
    select 'pcn' as geography_type, pcn_code as geography_code,
        registered_patients as numerator, 1 as denominator,
    from pcn_patients
    union all
    select 'icb', icb_code, sum(registered_patients), 1,
    from pcn_patients
    group by icb_code
    union all
    select 'england', 'E92000001', sum(registered_patients), 1,
    from list_sizes
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
),

-- Talking Therapies has no PCN level: its PCN rows carry the ICB's (or sub-ICB's) figure and say so
talking_therapies_counts as (
    select * from {{ ref('int_talking_therapies_counts') }}
),

workforce_trend_counts as (
    select * from {{ ref('int_workforce_trend_counts') }}
),

-- every block carries the same columns; `union all by name` lines them up by name
all_counts as (
    select * from prevalence
    union all by name select * from workforce_counts
    union all by name select * from need_counts
    union all by name select * from context_counts
    union all by name select * from gp_workforce_counts
    union all by name select * from imd_counts
    union all by name select * from talking_therapies_counts
    union all by name select * from workforce_trend_counts
)

select
    geography_type,
    geography_code,
    indicator_id,
    period_start,
    period_end,
    -- sums of doubles depend on the order threads add them: round so reruns are identical
    round(numerator::double, 10) as numerator,
    round(denominator::double, 10) as denominator,
    source_status,
    -- where the figure really comes from: pcn, or sub_icb / icb / england (Talking Therapies)
    coalesce(geography_level, geography_type) as geography_level,
from all_counts
