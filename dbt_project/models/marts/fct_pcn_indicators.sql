-- One row per PCN x indicator x period, with its benchmarks and comparisons: the table behind
-- site/data/indicators.csv and every page (DESIGN.md "Outputs").
with

pcns as (select * from {{ ref('dim_pcns') }}),
catalogue as (select * from {{ ref('dim_indicators') }}),
values_ as (select * from {{ ref('int_indicator_values') }}),

england as (select * from values_ where geography_type = 'england'),

-- the periods each indicator is published for (England always has a row, "not available" or not)
periods as (select indicator_id, period_start, period_end, source_status, from england),
icb as (select * from values_ where geography_type = 'icb'),

-- peer-group value: the 10 peers' numerators and denominators pooled, as England and ICB values
-- are. None when a peer is suppressed (back-calculable) or the figure is not PCN-level.
peer_values as (
    select
        peers.pcn_code,
        peer.indicator_id,
        peer.period_start,
        case
            when bool_or(peer.is_suppressed) then null
            when catalogue.method = 'wilson' and {{ is_small_count('sum(peer.numerator)') }} then null
            when sum(peer.denominator) > 0
                then round(sum(peer.numerator) / sum(peer.denominator) * catalogue.multiplier, 10)
        end as peer_group_value,
    from {{ ref('dim_pcn_peers') }} as peers
    inner join values_ as peer
        on peer.geography_type = 'pcn' and peer.geography_code = peers.peer_pcn_code
    inner join catalogue on catalogue.indicator_id = peer.indicator_id
    where catalogue.geography_level = 'pcn'
    group by peers.pcn_code, peer.indicator_id, peer.period_start, catalogue.method,
        catalogue.multiplier
),

pcn_rows as (
    select
        pcns.pcn_code,
        pcns.pcn_name,
        pcns.icb_code,
        pcns.sub_icb_code,
        catalogue.indicator_id,
        catalogue.method,
        catalogue.unit,
        coalesce(pcn.geography_level, catalogue.geography_level) as geography_level,
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
),

-- FTE rates have no interval: each PCN is placed by quintile of all PCNs' values
quintile_cuts as (
    select indicator_id, period_start, quantile_cont(value, [0.2, 0.4, 0.6, 0.8]) as cuts,
    from pcn_rows
    where value is not null
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
    {{ compare_to('pcn_rows.lower_ci95', 'pcn_rows.upper_ci95', 'pcn_rows.england_value') }}
        as compared_to_england,
    -- a PCN given its ICB's figure is that figure: comparing it with the ICB says nothing
    case
        when pcn_rows.geography_level in ('icb', 'sub_icb') then 'not compared'
        else {{ compare_to('pcn_rows.lower_ci95', 'pcn_rows.upper_ci95', 'pcn_rows.icb_value') }}
    end as compared_to_icb,
    {{ compare_to('pcn_rows.lower_ci95', 'pcn_rows.upper_ci95', 'peer_values.peer_group_value') }}
        as compared_to_peers,
    case
        when pcn_rows.method in ('fte_quintile', 'context_quintile') and pcn_rows.value is not null
            then 1
            + (pcn_rows.value > quintile_cuts.cuts[1])::integer
            + (pcn_rows.value > quintile_cuts.cuts[2])::integer
            + (pcn_rows.value > quintile_cuts.cuts[3])::integer
            + (pcn_rows.value > quintile_cuts.cuts[4])::integer
    end as quintile,
    -- funnel plot limits around England for this PCN's denominator (PCN-level counts only)
    {% for level, suffix in [(95, '95'), (99.8, '998')] %}
    {% for side in ['lower', 'upper'] %}
    case when pcn_rows.geography_level = 'pcn' then round(
        {{ funnel_limit('pcn_rows.method', 'pcn_rows.england_value / pcn_rows.multiplier',
                        'pcn_rows.denominator', level, side) }} * pcn_rows.multiplier, 10)
    end as funnel_{{ side }}{{ suffix }},
    {% endfor %}
    {% endfor %}
    pcn_rows.geography_level,
    pcn_rows.is_suppressed,
    pcn_rows.source_status = 'synthetic' as is_synthetic_source,
    pcn_rows.unit,
    pcn_rows.source_status,
from pcn_rows
left join quintile_cuts using (indicator_id, period_start)
left join peer_values
    on peer_values.pcn_code = pcn_rows.pcn_code
    and peer_values.indicator_id = pcn_rows.indicator_id
    and peer_values.period_start = pcn_rows.period_start
order by pcn_rows.pcn_code, pcn_rows.indicator_id, pcn_rows.period_start
