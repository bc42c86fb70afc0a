-- One row per PCN x indicator x period, with its benchmarks and comparisons: the table behind
-- site/data/indicators.csv and every page (docs/ARCHITECTURE.md "Outputs").
with

pcns as (select * from {{ ref('dim_pcns') }}),
catalogue as (select * from {{ ref('dim_indicators') }}),
values_ as (select * from {{ ref('int_indicator_values') }}),

england as (select * from values_ where geography_type = 'england'),

-- whose figure an attributed (Talking Therapies) row is: its area, or its areas joined by '+'
-- (largest share first) when its practices span several and the figure is a blend
areas as (
    select
        pcn_code,
        string_agg(area_code, '+' order by area_rank) as area_codes,
        string_agg(area_name, ' + ' order by area_rank) as area_names,
        max(area_count) as area_count,
    from {{ ref('int_pcn_attribution_areas') }}
    group by pcn_code
),

-- the periods each indicator is published for (England always has a row, "not available" or not)
periods as (select indicator_id, period_start, period_end, source_status, from england),
icb as (select * from values_ where geography_type = 'icb'),

-- peer-group value: the 10 peers' numerators and denominators pooled, as England and ICB values
-- are, over the peers with a figure (a peer not reported adds no patients). None when a peer is
-- suppressed (back-calculable) or the figure is not PCN-level.
peer_values as (
    select
        peers.pcn_code,
        peer.indicator_id,
        peer.period_start,
        case
            when bool_or(peer.is_suppressed) then null
            when catalogue.method = 'wilson' and {{ is_small_count('sum(peer.numerator)') }} then null
            when sum(peer.denominator) filter (where peer.numerator is not null) > 0
                then round(
                    sum(peer.numerator)
                    / sum(peer.denominator) filter (where peer.numerator is not null)
                    * catalogue.multiplier,
                    10
                )
        end as peer_group_value,
    from {{ ref('dim_pcn_peers') }} as peers
    inner join values_ as peer
        on peer.geography_type = 'pcn' and peer.geography_code = peers.peer_pcn_code
    inner join catalogue on catalogue.indicator_id = peer.indicator_id
    where catalogue.geography_level = 'pcn'
    group by peers.pcn_code, peer.indicator_id, peer.period_start, catalogue.method,
        catalogue.multiplier
),

joined as (
    select
        pcns.pcn_code,
        pcns.pcn_name,
        pcns.icb_code,
        pcns.sub_icb_code,
        catalogue.indicator_id,
        catalogue.method,
        catalogue.unit,
        coalesce(pcn.geography_level, catalogue.geography_level) as geography_level,
        coalesce(pcn.geography_level, catalogue.geography_level) in ('icb', 'sub_icb')
            as is_attributed,
        periods.period_start,
        periods.period_end,
        pcn.numerator,
        pcn.denominator,
        pcn.value,
        pcn.lower_ci95,
        pcn.upper_ci95,
        pcn.lower_ci998,
        pcn.upper_ci998,
        england.value as england_value,
        icb.value as icb_value,
        catalogue.multiplier,
        coalesce(pcn.is_suppressed, false) as is_suppressed,
        coalesce(pcn.source_status, periods.source_status) as source_status,
        areas.area_codes,
        areas.area_names,
        coalesce(areas.area_count, 0) > 1 as spans_areas,
    from pcns
    cross join catalogue
    inner join periods using (indicator_id)
    left join values_ as pcn
        on pcn.geography_type = 'pcn'
        and pcn.geography_code = pcns.pcn_code
        and pcn.indicator_id = catalogue.indicator_id
        and pcn.period_start = periods.period_start
    left join england
        on england.indicator_id = catalogue.indicator_id
        and england.period_start = periods.period_start
    left join icb
        on icb.geography_code = pcns.icb_code
        and icb.indicator_id = catalogue.indicator_id
        and icb.period_start = periods.period_start
    left join areas on areas.pcn_code = pcns.pcn_code
),

-- an attributed figure is its area's: the area's own counts and interval for one area; a blend
-- of several areas is a weighted mean with no counts of its own and no interval
pcn_rows as (
    select
        joined.* exclude (
            numerator, denominator, lower_ci95, upper_ci95, lower_ci998, upper_ci998,
            area_codes, area_names, spans_areas
        ),
        is_attributed and spans_areas as is_blend,
        -- an attributed row names its area even when the area has no figure
        case when is_attributed then area_codes else pcn_code end as geography_code,
        case when is_attributed then area_names else pcn_name end as geography_name,
        {% for column in ['numerator', 'denominator', 'lower_ci95', 'upper_ci95', 'lower_ci998',
                          'upper_ci998'] %}
        case when not (is_attributed and spans_areas) then {{ column }} end as {{ column }},
        {% endfor %}
    from joined
),

-- indicators without an interval: each PCN's percentile rank among the PCNs with a value (the
-- share whose value is strictly lower), and for IMD its quintile by OHID's method (ranked from
-- the highest score, 1 the most deprived fifth)
ranks as (
    select
        pcn_code,
        indicator_id,
        period_start,
        round(
            100.0 * (rank() over (partition by indicator_id, period_start order by value) - 1)
            / count(*) over (partition by indicator_id, period_start),
            10
        ) as percentile_rank,
        case when method = 'context_quintile' and count(*) over (partition by indicator_id, period_start) >= 5
            then greatest(1, floor(
                6 - ceil(
                    (count(*) over (partition by indicator_id, period_start) + 1
                     - rank() over (partition by indicator_id, period_start order by value desc))
                    / (count(*) over (partition by indicator_id, period_start) / 5.0)
                )
            ))::integer
        end as quintile,
    from pcn_rows
    where value is not null
        and method in ('fte_percentile', 'context_percentile', 'context_quintile')
),

-- the middle PCN (a benchmark for context measures, whose England value is a total)
medians as (
    select indicator_id, period_start, round(median(value), 10) as pcn_median_value,
    from pcn_rows
    where value is not null and not is_attributed
    group by indicator_id, period_start
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
    peer_values.peer_group_value,
    medians.pcn_median_value,
    -- an attributed figure is the area's, never the PCN's own: no PCN comparison
    case
        when pcn_rows.is_attributed then 'not compared'
        else {{ compare_to('pcn_rows.lower_ci95', 'pcn_rows.upper_ci95', 'pcn_rows.england_value') }}
    end as compared_to_england,
    -- a PCN given its ICB's figure is that figure: comparing it with the ICB says nothing
    case
        when pcn_rows.is_attributed then 'not compared'
        else {{ compare_to('pcn_rows.lower_ci95', 'pcn_rows.upper_ci95', 'pcn_rows.icb_value') }}
    end as compared_to_icb,
    {{ compare_to('pcn_rows.lower_ci95', 'pcn_rows.upper_ci95', 'peer_values.peer_group_value') }}
        as compared_to_peers,
    -- the area's own comparison with England (one area; a blend has no interval)
    case
        when not pcn_rows.is_attributed then null
        when pcn_rows.is_blend then 'not compared'
        else {{ compare_to('pcn_rows.lower_ci95', 'pcn_rows.upper_ci95', 'pcn_rows.england_value') }}
    end as area_compared_to_england,
    ranks.percentile_rank,
    ranks.quintile,
    -- funnel plot limits around England for this PCN's denominator (PCN-level counts only),
    -- the over-dispersion-adjusted limits and where the PCN sits (int_pcn_funnel_limits)
    funnel.funnel_lower95,
    funnel.funnel_upper95,
    funnel.funnel_lower998,
    funnel.funnel_upper998,
    funnel.adjusted_funnel_lower95,
    funnel.adjusted_funnel_upper95,
    funnel.adjusted_funnel_lower998,
    funnel.adjusted_funnel_upper998,
    funnel.funnel_outlier,
    pcn_rows.geography_level,
    pcn_rows.geography_code,
    pcn_rows.geography_name,
    pcn_rows.is_suppressed,
    pcn_rows.source_status = 'synthetic' as is_synthetic_source,
    pcn_rows.unit,
    pcn_rows.source_status,
from pcn_rows
left join ranks using (pcn_code, indicator_id, period_start)
left join medians using (indicator_id, period_start)
left join peer_values
    on peer_values.pcn_code = pcn_rows.pcn_code
    and peer_values.indicator_id = pcn_rows.indicator_id
    and peer_values.period_start = pcn_rows.period_start
left join {{ ref('int_pcn_funnel_limits') }} as funnel
    on funnel.pcn_code = pcn_rows.pcn_code
    and funnel.indicator_id = pcn_rows.indicator_id
    and funnel.period_start = pcn_rows.period_start
order by pcn_rows.pcn_code, pcn_rows.indicator_id, pcn_rows.period_start
