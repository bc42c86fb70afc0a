-- PCN workforce FTE rates for every census before the latest (the trend; docs/ARCHITECTURE.md "Periods"):
-- each census with the registrations vintage nearest to it (either side; the earlier on a tie)
-- as denominator, and the practice membership in force at the census date from ePCN's
-- relationship spells. A role group not yet recorded anywhere in a census is "not available"
-- (rows with no numerator), never zero; so is every role of a PCN absent from a census.
with

staff as (
    select * from {{ ref('int_pcn_workforce_fte_by_role_group') }}
),

history as (
    select * from staff
    where vintage < (select max(vintage) from staff)
),

censuses as (
    select distinct vintage, census_date, source_status from history
),

list_series as (
    select * from {{ ref('stg_gp_registrations__list_sizes') }}
),

list_vintages as (
    select distinct vintage, extract_date from list_series
),

nearest_list as (
    select censuses.vintage as census_vintage, list_vintages.vintage as list_vintage,
    from censuses
    cross join list_vintages
    qualify row_number() over (
        partition by censuses.vintage
        order by abs(date_diff('day', censuses.census_date, list_vintages.extract_date)),
            list_vintages.extract_date
    ) = 1
),

spells as (
    select * from {{ ref('stg_ods_epcn__relationships') }}
    qualify vintage = max(vintage) over ()
),

-- the practice's spell in force on the census date (the latest-starting one if two overlap)
members_at as (
    select censuses.vintage as census_vintage, spells.practice_code, spells.pcn_code,
    from censuses
    inner join spells
        on spells.start_date <= censuses.census_date
        and (spells.end_date is null or spells.end_date >= censuses.census_date)
    qualify row_number() over (
        partition by censuses.vintage, spells.practice_code
        order by spells.start_date desc, spells.pcn_code
    ) = 1
),

pcns as (select * from {{ ref('int_pcns_at_reference_date') }}),

pcn_patients as (
    select
        members_at.census_vintage as vintage,
        members_at.pcn_code,
        pcns.icb_code,
        sum(list_series.registered_patients) as registered_patients,
    from members_at
    inner join nearest_list using (census_vintage)
    inner join list_series
        on list_series.vintage = nearest_list.list_vintage
        and list_series.practice_code = members_at.practice_code
    inner join pcns using (pcn_code)  -- PCNs published now; a closed PCN's history is not shown
    group by all
),

indicator_fte as (
    select history.vintage, roles.indicator_id, history.pcn_code, sum(history.fte) as fte,
    from history
    inner join {{ ref('indicator_role_groups') }} as roles using (role_group)
    group by all
),

indicators as (
    select distinct indicator_id from {{ ref('indicator_role_groups') }}
),

-- which indicators the census records at all
recorded as (
    select distinct vintage, indicator_id from indicator_fte
),

-- PCNs with at least one staff record in each census
reporting_pcns as (
    select distinct vintage, pcn_code from history
),

-- a recorded role a reporting PCN lacks is 0; a PCN absent from the census is not reported
pcn_fte as (
    select
        pcn_patients.vintage,
        indicators.indicator_id,
        pcn_patients.pcn_code,
        pcn_patients.icb_code,
        case
            when recorded.indicator_id is not null and reporting_pcns.pcn_code is not null
                then coalesce(indicator_fte.fte, 0)
        end as fte,
        pcn_patients.registered_patients,
    from pcn_patients
    cross join indicators
    left join recorded
        on recorded.vintage = pcn_patients.vintage
        and recorded.indicator_id = indicators.indicator_id
    left join reporting_pcns
        on reporting_pcns.vintage = pcn_patients.vintage
        and reporting_pcns.pcn_code = pcn_patients.pcn_code
    left join indicator_fte
        on indicator_fte.vintage = pcn_patients.vintage
        and indicator_fte.indicator_id = indicators.indicator_id
        and indicator_fte.pcn_code = pcn_patients.pcn_code
),

england as (
    select
        censuses.vintage,
        indicators.indicator_id,
        case when recorded.indicator_id is not null then
            coalesce((
                select sum(indicator_fte.fte) from indicator_fte
                where indicator_fte.vintage = censuses.vintage
                    and indicator_fte.indicator_id = indicators.indicator_id
            ), 0)
        end as numerator,
        (
            select sum(list_series.registered_patients) from list_series
            inner join nearest_list on nearest_list.list_vintage = list_series.vintage
            where nearest_list.census_vintage = censuses.vintage
        ) as denominator,
    from censuses
    cross join indicators
    left join recorded
        on recorded.vintage = censuses.vintage and recorded.indicator_id = indicators.indicator_id
),

rates as (
    -- as the latest census (int_indicator_counts): a PCN not reported has no denominator either,
    -- and an ICB pools its PCNs in the census
    select 'pcn' as geography_type, pcn_code as geography_code, vintage, indicator_id,
        case when registered_patients > 0 then fte end as numerator,
        case when fte is not null then registered_patients end as denominator,
    from pcn_fte
    union all
    select 'icb', icb_code, vintage, indicator_id,
        sum(fte), sum(registered_patients) filter (where fte is not null),
    from pcn_fte
    group by icb_code, vintage, indicator_id
    union all
    select 'england', 'E92000001', vintage, indicator_id,
        numerator,
        case when numerator is not null then denominator end,
    from england
)

select
    rates.geography_type,
    rates.geography_code,
    rates.indicator_id,
    date_trunc('month', censuses.census_date)::date as period_start,
    censuses.census_date as period_end,
    rates.numerator,
    rates.denominator,
    censuses.source_status,
    'pcn' as geography_level,
from rates
inner join censuses using (vintage)
