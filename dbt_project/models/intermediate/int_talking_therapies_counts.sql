-- NHS Talking Therapies indicators at PCN, ICB and England level, in the columns of
-- int_indicator_counts plus geography_level (docs/ARCHITECTURE.md "Talking Therapies has no PCN level").
-- The publisher has no practice or PCN level: a PCN carries the figures of the area its
-- practices belong to - the sub-ICB when the monthly file has SubICB rows, else the ICB of the
-- annual report. Its numerator and denominator are therefore the area's, not the PCN's own; a
-- PCN spanning several areas carries their rates' registered-patient-weighted mean (a blend).
-- A figure the source does not carry (suppressed, blank, or a breakdown row that is absent)
-- gives a row with null numerator and denominator: never estimated.
with

members as (select * from {{ ref('int_practices_joined_to_pcns') }}),
list_sizes as (select * from {{ ref('int_practice_list_sizes') }}),
annual as (select * from {{ ref('stg_talking_therapies__annual_measures') }}),
monthly as (select * from {{ ref('stg_talking_therapies__monthly_measures') }}),

-- registered adults: the QOF 18OV list (the list the DEP register counts against), latest QOF year
adult_lists as (
    select practice_code, practice_list_size as adults, source_status,
    from {{ ref('stg_qof__prevalence_registers') }}
    where group_code = 'DEP' and patient_list_type = '18OV'
    qualify vintage = max(vintage) over ()
),

-- which level the figures come from: sub-ICB when the monthly file carries SubICB rows --------
mode as (select {{ talking_therapies_area_level() }} as area_level),

-- the eight counts, one row per area and measure, from whichever file the mode picks
monthly_measures as (
    select
        case when group_type = 'England' then 'england' else 'sub_icb' end as area_level,
        case when group_type = 'England' then 'E92000001' else org_code1 end as area_code,
        case measure_id
            when 'M001' then 'referrals'
            when 'M031' then 'entered_treatment'
            when 'M076' then 'finished'
            when 'M179' then 'not_at_caseness'
            when 'M191' then 'recovery'
            when 'M185' then 'reliable_improvement'
            when 'M052' then 'waited_6wk'
            when 'M054' then 'waited_18wk'
        end as measure,
        period_start,
        period_end,
        value,
        is_suppressed,
        source_status,
    from monthly
    where group_type in ('England', 'SubICB')
        and measure_id in ('M001', 'M031', 'M076', 'M179', 'M191', 'M185', 'M052', 'M054')
),

-- annual report: `Total` rows, and the `Waiting Time` rows of finished treatment that waited up
-- to 6 / 18 weeks for first treatment (the publisher's VariableA 'Accessing services' from
-- 2022-23, 'First treatment' up to 2021-22; VariableB '<6 weeks' / '<18 weeks'; the count is in
-- Count_FinishedCourseTreatment). The sample's rebuilt 2024-25 file has both kinds of row but no
-- Count_AccessingServices (the real source it was rebuilt from does not keep it)
annual_measures as (
    select
        case when org_type = 'England' then 'england' else 'icb' end as area_level,
        case when org_type = 'England' then 'E92000001' else org_code end as area_code,
        case
            when variable_type = 'Total' then case measure_name
                when 'count_referrals_received' then 'referrals'
                when 'count_accessing_services' then 'entered_treatment'
                when 'count_finished_course_treatment' then 'finished'
                when 'count_not_at_caseness' then 'not_at_caseness'
                when 'count_recovery' then 'recovery'
                when 'count_improvement' then 'reliable_improvement'
            end
            when replace(lower(variable_b), ' ', '') = '<6weeks' then 'waited_6wk'
            when replace(lower(variable_b), ' ', '') = '<18weeks' then 'waited_18wk'
        end as measure,
        period_start,
        period_end,
        value,
        is_suppressed,
        source_status,
    from annual
    where org_type in ('England', 'ICB')
        and (
            variable_type = 'Total'
            or (
                variable_type = 'Waiting Time'
                and lower(variable_a) in ('accessing services', 'first treatment')
                and measure_name = 'count_finished_course_treatment'
            )
        )
    qualify vintage = max(vintage) over ()
),

source_measures as (
    select * from monthly_measures where (select area_level from mode) = 'sub_icb'
    union all
    select * from annual_measures where (select area_level from mode) = 'icb'
),

-- one reporting period and status for every row (the file the mode picked)
tt_period as (
    select
        min(period_start) as period_start,
        max(period_end) as period_end,
        -- the least trustworthy status wins: a synthetic input makes the figure synthetic
        case
            when bool_or(source_status = 'synthetic') then 'synthetic'
            when bool_or(source_status = 'rebuilt') then 'rebuilt'
            else any_value(source_status)
        end as source_status,
    from source_measures
),

-- a count summed over the file's months: null if any month is missing or suppressed
area_counts as (
    select
        area_level,
        area_code,
        measure,
        case when count(*) = count(value) then sum(value) end as value,
    from source_measures
    where measure is not null
    group by area_level, area_code, measure
),

area_figures as (
    select
        area_level,
        area_code,
        max(case when measure = 'referrals' then value end) as referrals,
        max(case when measure = 'entered_treatment' then value end) as entered_treatment,
        max(case when measure = 'finished' then value end) as finished,
        max(case when measure = 'not_at_caseness' then value end) as not_at_caseness,
        max(case when measure = 'recovery' then value end) as recovery,
        max(case when measure = 'reliable_improvement' then value end) as reliable_improvement,
        max(case when measure = 'waited_6wk' then value end) as waited_6wk,
        max(case when measure = 'waited_18wk' then value end) as waited_18wk,
    from area_counts
    group by area_level, area_code
),

-- every member practice in its area (the sub-ICB or ICB of the membership source)
practice_areas as (
    select
        members.practice_code,
        members.pcn_code,
        members.icb_code,
        case (select area_level from mode)
            when 'sub_icb' then members.sub_icb_code
            else members.icb_code
        end as area_code,
        coalesce(list_sizes.registered_patients, 0) as registered_patients,
        adult_lists.adults,
    from members
    left join list_sizes using (practice_code)
    left join adult_lists using (practice_code)
),

-- an area's figures and its registered adults (a practice absent from QOF adds none)
areas as (
    select
        practice_areas.icb_code,
        practice_areas.area_code,
        coalesce(sum(practice_areas.adults), 0) as adults,
        any_value(area_figures.referrals) as referrals,
        any_value(area_figures.entered_treatment) as entered_treatment,
        any_value(area_figures.finished) as finished,
        any_value(area_figures.not_at_caseness) as not_at_caseness,
        any_value(area_figures.recovery) as recovery,
        any_value(area_figures.reliable_improvement) as reliable_improvement,
        any_value(area_figures.waited_6wk) as waited_6wk,
        any_value(area_figures.waited_18wk) as waited_18wk,
    from practice_areas
    left join area_figures
        on area_figures.area_code = practice_areas.area_code
        and area_figures.area_level = (select area_level from mode)
    group by practice_areas.icb_code, practice_areas.area_code
),

-- a PCN's registered patients in each area it spans: the blending weights
pcn_area_weights as (
    select pcn_code, area_code, registered_patients,
    from {{ ref('int_pcn_attribution_areas') }}
),

-- ICB: the sum of its areas (itself when the areas are ICBs); null when any area lacks it
icb_figures as (
    select
        'icb' as geography_type,
        icb_code as geography_code,
        {% for column in ['adults', 'referrals', 'entered_treatment', 'finished', 'not_at_caseness',
                          'recovery', 'reliable_improvement', 'waited_6wk', 'waited_18wk'] %}
        case when count(*) = count({{ column }}) then sum({{ column }}) end as {{ column }},
        {% endfor %}
    from areas
    group by icb_code
),

-- England: the publisher's England row over the adults of every QOF practice
england_figures as (
    select
        'england' as geography_type,
        'E92000001' as geography_code,
        (select sum(adults) from adult_lists) as adults,
        referrals,
        entered_treatment,
        finished,
        not_at_caseness,
        recovery,
        reliable_improvement,
        waited_6wk,
        waited_18wk,
    from (select 1) as one_row
    left join area_figures on area_figures.area_level = 'england'
),

geographies as (
    select 'area' as geography_type, area_code as geography_code,
        adults, referrals, entered_treatment, finished, not_at_caseness, recovery,
        reliable_improvement, waited_6wk, waited_18wk,
        (select area_level from mode) as geography_level,
    from areas
    union all
    select *, 'icb', from icb_figures
    union all
    select *, 'england', from england_figures
),

indicators as (
    select * from (values
        ('tt_referrals_per_100k'),
        ('tt_entered_treatment_per_100k'),
        ('tt_recovery_rate'),
        ('tt_reliable_improvement_rate'),
        ('tt_first_treatment_6wk_pct'),
        ('tt_first_treatment_18wk_pct')
    ) as t (indicator_id)
),

indicator_counts as (
    select
        geographies.geography_type,
        geographies.geography_code,
        indicators.indicator_id,
        geographies.geography_level,
        case indicators.indicator_id
            when 'tt_referrals_per_100k' then geographies.referrals
            when 'tt_entered_treatment_per_100k' then geographies.entered_treatment
            when 'tt_recovery_rate' then geographies.recovery
            when 'tt_reliable_improvement_rate' then geographies.reliable_improvement
            when 'tt_first_treatment_6wk_pct' then geographies.waited_6wk
            when 'tt_first_treatment_18wk_pct' then geographies.waited_18wk
        end as numerator,
        case indicators.indicator_id
            when 'tt_referrals_per_100k' then geographies.adults
            when 'tt_entered_treatment_per_100k' then geographies.adults
            -- recovery counts only those at caseness when they started
            when 'tt_recovery_rate' then geographies.finished - geographies.not_at_caseness
            else geographies.finished
        end as denominator,
    from geographies
    cross join indicators
),

-- "not available" is both null: a denominator alone is never published
area_indicator_counts as (
    select
        * exclude (numerator, denominator),
        case when denominator is not null then numerator::double end as numerator,
        case when numerator is not null then denominator::double end as denominator,
    from indicator_counts
),

-- a PCN in one area carries that area's own counts; a PCN whose practices span several carries
-- the mean of the areas' rates weighted by its registered patients in each (a blend: the
-- patient-weighted sum of the rates over those patients, no count of its own); null when any
-- of its areas lacks it
pcn_counts as (
    select
        'pcn' as geography_type,
        weights.pcn_code as geography_code,
        area.indicator_id,
        any_value(area.geography_level) as geography_level,
        case
            when count(*) = 1 then any_value(area.numerator)
            when count(*) = count(area.numerator / nullif(area.denominator, 0))
                and sum(weights.registered_patients) > 0
                then round(
                    sum(weights.registered_patients * area.numerator / area.denominator), 10
                )
        end as numerator,
        case
            when count(*) = 1 then any_value(area.denominator)
            when count(*) = count(area.numerator / nullif(area.denominator, 0))
                and sum(weights.registered_patients) > 0
                then sum(weights.registered_patients)::double
        end as denominator,
    from pcn_area_weights as weights
    inner join area_indicator_counts as area
        on area.geography_type = 'area' and area.geography_code = weights.area_code
    group by weights.pcn_code, area.indicator_id
),

all_counts as (
    select * from area_indicator_counts where geography_type in ('icb', 'england')
    union all by name
    select * from pcn_counts
)

select
    all_counts.geography_type,
    all_counts.geography_code,
    all_counts.indicator_id,
    tt_period.period_start,
    tt_period.period_end,
    all_counts.numerator,
    all_counts.denominator,
    case
        when ends_with(all_counts.indicator_id, '_per_100k')
            and (select bool_or(source_status = 'synthetic') from adult_lists) then 'synthetic'
        else tt_period.source_status
    end as source_status,
    all_counts.geography_level,
from all_counts
cross join tt_period
