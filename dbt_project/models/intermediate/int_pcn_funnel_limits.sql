-- Funnel plot limits of every PCN-level proportion or rate of counted events, for each PCN's
-- denominator, in display units (rounded to 10 decimals), and where the PCN sits against them.
-- - funnel_*: the unadjusted 95% and 99.8% limits around England (statistics.sql funnel_limit,
--   the Fingertips funnel).
-- - adjusted_funnel_*: for proportions whose PCNs vary more than chance allows (phi > 1), the
--   random-effects limits of Spiegelhalter (2005) with FunnelPlotR's choices for proportions:
--   arcsine-square-root z-scores around England, winsorised at 10% in each tail, phi the mean
--   squared winsorised z-score, tau2 = max(0, (N phi - (N - 1)) / (sum w - sum w^2 / sum w))
--   with w = 1 / s^2 = 4n (DerSimonian-Laird, additive), limits
--   sin(asin(sqrt(England)) -/+ z sqrt(1 / (4n) + tau2))^2.
-- - funnel_outlier: high / low / none against the adjusted 99.8% limits where there are any,
--   else the unadjusted 99.8% limits; null for a PCN that is not plotted (no value).
-- Only plotted PCNs (a published value) enter phi and tau2: suppressed counts are left out.
with

values_ as (select * from {{ ref('int_indicator_values') }}),
catalogue as (select indicator_id, method, multiplier, from {{ ref('indicators') }}),

england as (
    select indicator_id, period_start, value as england_value,
    from values_
    where geography_type = 'england'
),

pcns as (
    select
        pcn.geography_code as pcn_code,
        pcn.indicator_id,
        pcn.period_start,
        catalogue.method,
        catalogue.multiplier,
        pcn.numerator,
        pcn.denominator,
        pcn.value,
        england.england_value,
        -- England as a proportion (0-1) or a rate per unit of denominator
        england.england_value / catalogue.multiplier as target,
    from values_ as pcn
    inner join catalogue using (indicator_id)
    inner join england
        on england.indicator_id = pcn.indicator_id
        and england.period_start = pcn.period_start
    where pcn.geography_type = 'pcn'
        and pcn.geography_level = 'pcn'
        and catalogue.method in ('wilson', 'byar')
),

-- z-scores of the plotted PCNs of each proportion indicator
scored as (
    select
        pcn_code,
        indicator_id,
        period_start,
        denominator,
        {{ arcsine_z('numerator', 'denominator', 'target') }} as z_score,
    from pcns
    where method = 'wilson' and value is not null and denominator > 0
),

-- the 10th and 90th percentiles of the z-scores (linear interpolation, as R's quantile())
cuts as (
    select
        indicator_id,
        period_start,
        count(*) as pcn_count,
        quantile_cont(z_score, 0.1) as winsor_lower_z,
        quantile_cont(z_score, 0.9) as winsor_upper_z,
    from scored
    group by indicator_id, period_start
),

dispersion as (
    select
        indicator_id,
        period_start,
        cuts.pcn_count,
        cuts.winsor_lower_z,
        cuts.winsor_upper_z,
        -- phi: the mean squared z-score after winsorising (z beyond a cut takes the cut's value)
        sum(power(greatest(cuts.winsor_lower_z, least(cuts.winsor_upper_z, scored.z_score)), 2))
            / cuts.pcn_count as phi,
        sum(4 * scored.denominator::double) as sum_w,
        sum(power(4 * scored.denominator::double, 2)) as sum_w2,
    from scored
    inner join cuts using (indicator_id, period_start)
    group by indicator_id, period_start, cuts.pcn_count, cuts.winsor_lower_z, cuts.winsor_upper_z
),

tau as (
    select
        *,
        case
            when pcn_count < 2 then null
            when pcn_count * phi < pcn_count - 1 then 0.0
            else greatest(0.0, (pcn_count * phi - (pcn_count - 1)) / (sum_w - sum_w2 / sum_w))
        end as tau2,
        coalesce(phi > 1 and pcn_count >= 2, false) as is_adjusted,
    from dispersion
),

limits as (
    select
        pcns.pcn_code,
        pcns.indicator_id,
        pcns.period_start,
        pcns.method,
        pcns.value,
        pcns.england_value,
        {% for level, suffix in [(95, '95'), (99.8, '998')] %}
        {% for side in ['lower', 'upper'] %}
        round({{ funnel_limit('pcns.method', 'pcns.target', 'pcns.denominator', level, side) }}
            * pcns.multiplier, 10) as funnel_{{ side }}{{ suffix }},
        case when tau.is_adjusted then round(
            {{ adjusted_funnel_limit('pcns.target', 'pcns.denominator', 'tau.tau2', level, side) }}
            * pcns.multiplier, 10)
        end as adjusted_funnel_{{ side }}{{ suffix }},
        {% endfor %}
        {% endfor %}
        scored.z_score,
        tau.pcn_count,
        tau.phi,
        tau.tau2,
        tau.winsor_lower_z,
        tau.winsor_upper_z,
        coalesce(tau.is_adjusted, false) as is_adjusted,
    from pcns
    left join scored using (pcn_code, indicator_id, period_start)
    left join tau
        on tau.indicator_id = pcns.indicator_id
        and tau.period_start = pcns.period_start
        and pcns.method = 'wilson'
)

select
    pcn_code,
    indicator_id,
    period_start,
    method,
    funnel_lower95,
    funnel_upper95,
    funnel_lower998,
    funnel_upper998,
    adjusted_funnel_lower95,
    adjusted_funnel_upper95,
    adjusted_funnel_lower998,
    adjusted_funnel_upper998,
    case
        when value is null or funnel_lower998 is null then null
        when value > coalesce(adjusted_funnel_upper998, funnel_upper998) then 'high'
        when value < coalesce(adjusted_funnel_lower998, funnel_lower998) then 'low'
        else 'none'
    end as funnel_outlier,
    -- against the unadjusted 99.8% limits, for the counts of fct_funnel_dispersion
    case
        when value is null or funnel_lower998 is null then null
        when value > funnel_upper998 then 'high'
        when value < funnel_lower998 then 'low'
        else 'none'
    end as unadjusted_funnel_outlier,
    round(z_score, 10) as z_score,
    pcn_count,
    round(phi, 10) as phi,
    round(tau2, 14) as tau2,
    round(winsor_lower_z, 10) as winsor_lower_z,
    round(winsor_upper_z, 10) as winsor_upper_z,
    is_adjusted,
from limits
