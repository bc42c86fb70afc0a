-- One row per funnel-plotted indicator x period: how much more PCNs vary than chance alone
-- would explain (the over-dispersion factor phi and the between-PCN variance tau2, proportions
-- only) and how many PCNs lie outside the 99.8% limits before and after the adjustment
-- (int_pcn_funnel_limits). Published on methods.html and as data/funnel_dispersion.csv.
with

limits as (select * from {{ ref('int_pcn_funnel_limits') }}),
england as (
    select indicator_id, period_start, period_end, value as england_value,
    from {{ ref('int_indicator_values') }}
    where geography_type = 'england'
)

select
    limits.indicator_id,
    limits.period_start,
    england.period_end,
    any_value(limits.method) as method,
    england.england_value,
    count(*) filter (where limits.funnel_outlier is not null)::integer as pcn_count,
    any_value(limits.phi) as phi,
    any_value(limits.tau2) as tau2,
    any_value(limits.winsor_lower_z) as winsor_lower_z,
    any_value(limits.winsor_upper_z) as winsor_upper_z,
    bool_or(limits.is_adjusted) as is_adjusted,
    count(*) filter (where limits.unadjusted_funnel_outlier = 'high')::integer
        as pcns_above_upper998,
    count(*) filter (where limits.unadjusted_funnel_outlier = 'low')::integer
        as pcns_below_lower998,
    case when bool_or(limits.is_adjusted) then
        count(*) filter (where limits.funnel_outlier = 'high')::integer
    end as pcns_above_adjusted_upper998,
    case when bool_or(limits.is_adjusted) then
        count(*) filter (where limits.funnel_outlier = 'low')::integer
    end as pcns_below_adjusted_lower998,
from limits
inner join england
    on england.indicator_id = limits.indicator_id
    and england.period_start = limits.period_start
where limits.funnel_lower998 is not null
group by limits.indicator_id, limits.period_start, england.period_end, england.england_value
order by limits.indicator_id, limits.period_start
