-- One row per PCN x indicator x period, with its benchmarks and comparisons: the table behind
-- site/data/indicators.csv and every page (DESIGN.md "Outputs").
with

pcns as (select * from {{ ref('dim_pcns') }}),
catalogue as (select * from {{ ref('dim_indicators') }}),
values_ as (select * from {{ ref('int_indicator_values') }}),

england as (select * from values_ where geography_type = 'england'),
icb as (select * from values_ where geography_type = 'icb'),

pcn_rows as (
    select
        pcns.pcn_code,
        pcns.pcn_name,
        pcns.icb_code,
        pcns.sub_icb_code,
        catalogue.indicator_id,
        catalogue.method,
        catalogue.unit,
        catalogue.geography_level,
        coalesce(pcn.period_start, england.period_start) as period_start,
        coalesce(pcn.period_end, england.period_end) as period_end,
        pcn.numerator,
        pcn.denominator,
        pcn.value,
        pcn.lower_ci95,
        pcn.upper_ci95,
        pcn.lower_ci998,
        pcn.upper_ci998,
        england.value as england_value,
        icb.value as icb_value,
        coalesce(pcn.is_suppressed, false) as is_suppressed,
        coalesce(pcn.source_status, england.source_status) as source_status,
    from pcns
    cross join catalogue
    left join values_ as pcn
        on pcn.geography_type = 'pcn'
        and pcn.geography_code = pcns.pcn_code
        and pcn.indicator_id = catalogue.indicator_id
    left join england on england.indicator_id = catalogue.indicator_id
    left join icb
        on icb.geography_code = pcns.icb_code
        and icb.indicator_id = catalogue.indicator_id
),

-- FTE rates have no interval: each PCN is placed by quintile of all PCNs' values
quintile_cuts as (
    select indicator_id, quantile_cont(value, [0.2, 0.4, 0.6, 0.8]) as cuts,
    from pcn_rows
    where value is not null
    group by indicator_id
)

select
    pcn_rows.pcn_code,
    pcn_rows.pcn_name,
    pcn_rows.icb_code,
    pcn_rows.sub_icb_code,
    pcn_rows.indicator_id,
    pcn_rows.period_start,
    pcn_rows.period_end,
    pcn_rows.numerator,
    pcn_rows.denominator,
    pcn_rows.value,
    pcn_rows.lower_ci95,
    pcn_rows.upper_ci95,
    pcn_rows.lower_ci998,
    pcn_rows.upper_ci998,
    pcn_rows.england_value,
    pcn_rows.icb_value,
    -- peer groups (10 nearest neighbours on context) arrive with the indicators work
    cast(null as double) as peer_group_value,
    {{ compare_to('pcn_rows.lower_ci95', 'pcn_rows.upper_ci95', 'pcn_rows.england_value') }}
        as compared_to_england,
    {{ compare_to('pcn_rows.lower_ci95', 'pcn_rows.upper_ci95', 'pcn_rows.icb_value') }}
        as compared_to_icb,
    'not compared' as compared_to_peers,
    case
        when pcn_rows.method in ('fte_quintile', 'context_quintile') and pcn_rows.value is not null
            then 1
            + (pcn_rows.value > quintile_cuts.cuts[1])::integer
            + (pcn_rows.value > quintile_cuts.cuts[2])::integer
            + (pcn_rows.value > quintile_cuts.cuts[3])::integer
            + (pcn_rows.value > quintile_cuts.cuts[4])::integer
    end as quintile,
    pcn_rows.geography_level,
    pcn_rows.is_suppressed,
    pcn_rows.source_status = 'synthetic' as is_synthetic_source,
    pcn_rows.unit,
    pcn_rows.source_status,
from pcn_rows
left join quintile_cuts using (indicator_id)
order by pcn_rows.pcn_code, pcn_rows.indicator_id, pcn_rows.period_start
